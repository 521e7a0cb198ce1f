"""What a full rebuild of the search index reads (see services/directory/search/source.py)."""

from services.directory.service_layer.documents import all_search_documents

__all__ = ["all_search_documents"]
