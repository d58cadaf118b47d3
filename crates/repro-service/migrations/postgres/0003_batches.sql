-- Batches: many (transaction, source) pairs queued in one request, followed as one. Keep in step
-- with ../sqlite/0003_batches.sql.
CREATE TABLE batches (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT,
    created_at  BIGINT NOT NULL
);
-- A batch's jobs, in the order given. A job may belong to several batches (the same transaction
-- and source submitted again is the same job).
CREATE TABLE batch_jobs (
    batch_id  BIGINT NOT NULL REFERENCES batches (id),
    position  BIGINT NOT NULL,
    job_id    BIGINT NOT NULL REFERENCES jobs (id),
    PRIMARY KEY (batch_id, position)
);
CREATE INDEX batch_jobs_job ON batch_jobs (job_id);
-- The toolchain the project pins (its rust-toolchain file), read at submission; NULL: none
-- pinned (the build infers one). Workers prefer jobs whose toolchain they already have.
ALTER TABLE jobs ADD COLUMN toolchain TEXT;
