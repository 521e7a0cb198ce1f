"""The budget service's settings, read from the environment once, at start-up, and passed in."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.config import ServiceSettings, env, env_float, var_dir

SCHEMES = ("file", "s3")


class StorageSettingError(ValueError):
    """BUDGET_DOCUMENTS_URL names no store we can use."""


@dataclass(frozen=True)
class DocumentStorageSettings:
    """`file:///path` (a folder on this machine) or `s3://bucket/prefix` (an S3-compatible bucket).

    The bucket's endpoint (for a store that is not AWS itself) and region may be given here; its
    credentials come from the standard AWS chain (environment, shared files, instance or pod
    role), never from this file.
    """

    url: str
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_connect_timeout: float = 2.0
    s3_read_timeout: float = 20.0
    s3_max_attempts: int = 3

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def folder(self) -> str:
        """A file URL's path."""
        return urlsplit(self.url).path

    @property
    def bucket(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def prefix(self) -> str:
        """The keys' common beginning inside the bucket: empty, or ending in one '/'."""
        path = urlsplit(self.url).path.strip("/")
        return f"{path}/" if path else ""

    def check(self) -> DocumentStorageSettings:
        parts = urlsplit(self.url)
        if parts.scheme not in SCHEMES:
            raise StorageSettingError(
                f"BUDGET_DOCUMENTS_URL must start file:// or s3://, not {parts.scheme or 'nothing'}"
            )
        if parts.scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path):
            raise StorageSettingError("BUDGET_DOCUMENTS_URL: a file URL is file:///absolute/path")
        if parts.scheme == "s3" and not parts.netloc:
            raise StorageSettingError("BUDGET_DOCUMENTS_URL: an S3 URL is s3://bucket/prefix")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise StorageSettingError(
                "BUDGET_DOCUMENTS_URL takes no credentials, query or fragment"
                " (credentials come from the AWS environment)"
            )
        return self

    @classmethod
    def from_env(cls) -> DocumentStorageSettings:
        default = (var_dir() / "budget-documents").as_uri()
        return cls(
            url=env("BUDGET_DOCUMENTS_URL", default) or default,
            s3_endpoint_url=env("BUDGET_DOCUMENTS_S3_ENDPOINT_URL"),
            s3_region=env("BUDGET_DOCUMENTS_S3_REGION"),
            s3_connect_timeout=env_float("BUDGET_DOCUMENTS_S3_CONNECT_TIMEOUT", 2.0),
            s3_read_timeout=env_float("BUDGET_DOCUMENTS_S3_READ_TIMEOUT", 20.0),
            s3_max_attempts=int(env_float("BUDGET_DOCUMENTS_S3_MAX_ATTEMPTS", 3)),
        ).check()


@dataclass(frozen=True)
class BudgetSettings:
    service: ServiceSettings
    documents: DocumentStorageSettings  # where uploaded documents are kept

    @classmethod
    def from_env(cls) -> BudgetSettings:
        return cls(
            service=ServiceSettings.from_env("budget"), documents=DocumentStorageSettings.from_env()
        )
