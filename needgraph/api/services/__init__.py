"""What the routes call: thin orchestration over the library packages (no FastAPI here).

* :mod:`.ontology_editor` - read, search and change the ontology files and the store's copy;
* :mod:`.graph` - node look-up and paged neighbourhoods;
* :mod:`.ingest_jobs` - the background worker that runs ingest jobs;
* :mod:`.multipart` - reading an upload (``multipart/form-data``) onto disk.
"""
