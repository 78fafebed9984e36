"""Where the service keeps its data, without Flask: the deployment's configuration (config), the
database engine and sessions (db), the tables (models, batches), the migrations runner
(migrate), the stored submissions read as per-unit records (records) and the registered
issuing organs' seals and signing keys under the data directory (seals).

Both the web service (service/) and the batch runner (jobs/) stand on this package; it imports
neither of them.
"""
