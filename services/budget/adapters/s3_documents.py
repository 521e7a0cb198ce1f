"""Uploaded files in an S3-compatible bucket (AWS S3, MinIO, Ceph and the like), through boto3.

Each file is one PutObject: the bucket keeps all of it or none of it, so a failure part-way leaves
no object behind. Its MD5 goes with it so the bucket refuses bytes damaged on the way.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from services.budget.adapters.documents import KEY_PATTERN, StoreUnavailable, checked_key
from services.budget.settings import DocumentStorageSettings


class S3Store:
    """Objects named `<prefix><first two hex digits>/<key>`, of the file's checked type."""

    def __init__(self, client: Any, bucket: str, prefix: str = ""):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: DocumentStorageSettings) -> S3Store:
        config = Config(
            connect_timeout=settings.s3_connect_timeout,
            read_timeout=settings.s3_read_timeout,
            retries={"max_attempts": settings.s3_max_attempts, "mode": "standard"},
            # Checksums only where the API requires them: stores other than AWS may not accept
            # the newer default ones. The Content-MD5 we send covers the body instead.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            config=config,
        )
        return cls(client, settings.bucket, settings.prefix)

    def _name(self, key: str) -> str:
        checked_key(key)
        return f"{self.prefix}{key[:2]}/{key}"

    def put(self, key: str, body: bytes, content_type: str) -> None:
        digest = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._name(key),
                Body=body,
                ContentType=content_type,
                ContentMD5=digest,
            )
        except (BotoCoreError, ClientError) as failed:
            raise StoreUnavailable() from failed

    def get(self, key: str) -> bytes:
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
            return bytes(found["Body"].read())
        except (BotoCoreError, ClientError) as failed:
            raise StoreUnavailable() from failed

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        except (BotoCoreError, ClientError) as failed:
            raise StoreUnavailable() from failed

    def keys_before(self, moment: datetime) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    key = str(item["Key"])[len(self.prefix) :]
                    head, _, name = key.partition("/")
                    if (
                        KEY_PATTERN.match(name)
                        and head == name[:2]
                        and item["LastModified"] < moment
                    ):
                        yield name
        except (BotoCoreError, ClientError) as failed:
            raise StoreUnavailable() from failed
