-- Where a job's source came from when the server fetched it from git (NULL: an uploaded
-- archive). The archive blob is the tree at that commit either way.
ALTER TABLE jobs ADD COLUMN source_url TEXT;
ALTER TABLE jobs ADD COLUMN source_commit TEXT;
ALTER TABLE jobs ADD COLUMN source_path TEXT;
