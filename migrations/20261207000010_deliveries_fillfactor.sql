-- Room on each deliveries page for the rows' next versions. A delivery is written once and
-- updated soon after (an attempt recorded, a claim), and every such update makes a new row
-- version that cannot be HOT (the partial indexes name the status). When a page is full, the
-- new version goes to another page: PostgreSQL then first logs a lock of the old version (a
-- second WAL record and a second page) and logs the new version whole rather than only what
-- changed. At e2e-10 that was 179,000 lock records for 200,000 deliveries (pg_waldump). With
-- half of each page left free by inserts, the update finds room on its own page.
ALTER TABLE deliveries SET (fillfactor = 50);
