-- casper-repro service schema, SQLite. Keep in step with ../postgres/0001_jobs.sql: same tables,
-- columns and meaning; only the types of the key and of byte columns differ.

-- Content-addressed bytes: source archives, rebuilt modules, logs. Never stored twice.
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    data        BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);

-- One verification of one transaction against one source tree; the queue is this table.
-- state: Waiting (queued) -> Pending (leased by a worker) -> Verified | Failed.
-- Times are Unix milliseconds.
CREATE TABLE jobs (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    tx_hash            TEXT NOT NULL,
    source_digest      TEXT NOT NULL,
    archive_sha256     TEXT NOT NULL REFERENCES blobs (sha256),
    state              TEXT NOT NULL,
    attempts           BIGINT NOT NULL DEFAULT 0,
    max_attempts       BIGINT NOT NULL,
    not_before         BIGINT NOT NULL DEFAULT 0,
    lease_owner        TEXT,
    lease_expires      BIGINT,
    created_at         BIGINT NOT NULL,
    started_at         BIGINT,
    finished_at        BIGINT,
    error_code         TEXT,
    error_description  TEXT,
    verdict            TEXT,
    report_json        TEXT,
    binary_sha256      TEXT REFERENCES blobs (sha256),
    logs_sha256        TEXT REFERENCES blobs (sha256),
    provenance_sha256  TEXT REFERENCES blobs (sha256),
    bundle_sha256      TEXT REFERENCES blobs (sha256),
    UNIQUE (tx_hash, source_digest)
);
CREATE INDEX jobs_queue ON jobs (state, not_before, id);
CREATE INDEX jobs_tx ON jobs (tx_hash, id);

-- The contracts a job's transaction installed: lookups by contract, package and stored Wasm.
CREATE TABLE contracts (
    job_id         BIGINT NOT NULL REFERENCES jobs (id),
    contract_hash  TEXT NOT NULL,
    package_hash   TEXT NOT NULL,
    stored_sha256  TEXT NOT NULL,
    PRIMARY KEY (job_id, contract_hash)
);
CREATE INDEX contracts_contract ON contracts (contract_hash);
CREATE INDEX contracts_package ON contracts (package_hash);
CREATE INDEX contracts_stored ON contracts (stored_sha256);
