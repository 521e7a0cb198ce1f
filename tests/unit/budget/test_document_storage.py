"""Which document store the settings choose, and which URLs they refuse, without any I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.budget.adapters.documents import DiskStore, document_store
from services.budget.adapters.s3_documents import S3Store
from services.budget.settings import DocumentStorageSettings, StorageSettingError


def test_a_file_url_chooses_the_disk_store_at_its_path(tmp_path):
    store = document_store(DocumentStorageSettings(tmp_path.as_uri()).check())
    assert isinstance(store, DiskStore) and store.root == tmp_path


def test_an_s3_url_chooses_the_bucket_with_its_prefix_endpoint_and_region(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "fictional")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fictional")
    settings = DocumentStorageSettings(
        "s3://phb-documents/council/budget/",
        s3_endpoint_url="https://objects.example.org",
        s3_region="eu-west-2",
    ).check()
    store = document_store(settings)
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == ("phb-documents", "council/budget/")
    assert store.client.meta.endpoint_url == "https://objects.example.org"
    assert store.client.meta.region_name == "eu-west-2"
    assert store._name("0" * 32) == "council/budget/00/" + "0" * 32


def test_a_bucket_without_a_prefix_keeps_keys_at_its_root():
    assert DocumentStorageSettings("s3://phb-documents").check().prefix == ""


@pytest.mark.parametrize(
    "url",
    [
        "https://phb-documents.s3.amazonaws.com/budget",
        "s3:///budget",
        "s3://key:secret@phb-documents/budget",
        "s3://phb-documents/budget?region=eu-west-2",
        "file://elsewhere/var/documents",
        "budget-documents",
    ],
)
def test_a_url_naming_no_usable_store_or_carrying_credentials_is_refused(url):
    with pytest.raises(StorageSettingError):
        DocumentStorageSettings(url).check()


def test_from_env_defaults_to_a_folder_under_var_and_reads_the_s3_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("BUDGET_DOCUMENTS_URL", raising=False)
    assert Path(DocumentStorageSettings.from_env().folder) == tmp_path / "budget-documents"
    monkeypatch.setenv("BUDGET_DOCUMENTS_URL", "s3://phb-documents/budget")
    monkeypatch.setenv("BUDGET_DOCUMENTS_S3_READ_TIMEOUT", "7.5")
    monkeypatch.setenv("BUDGET_DOCUMENTS_S3_MAX_ATTEMPTS", "5")
    settings = DocumentStorageSettings.from_env()
    assert (settings.bucket, settings.s3_read_timeout, settings.s3_max_attempts) == (
        "phb-documents",
        7.5,
        5,
    )


def test_a_key_that_is_not_ours_never_names_a_file_or_an_object(tmp_path):
    with pytest.raises(ValueError):
        DiskStore(tmp_path).get("../../etc/passwd")
    with pytest.raises(ValueError):
        S3Store(client=None, bucket="b")._name("../other/" + "0" * 23)
