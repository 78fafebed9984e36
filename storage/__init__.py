"""Where the service keeps its data, without Flask: the deployment's configuration (config), the
database engine and sessions (db), the tables (models, batches), the migrations runner
(migrate) and the stored submissions read as per-unit records (records).

Both the web service (service/) and the batch runner (jobs/) stand on this package; it imports
neither of them.
"""
