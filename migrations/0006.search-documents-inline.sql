-- depends: 0005.outbox-heads
-- Search ranks up to 1,000 matches with ts_rank_cd, which reads each match's whole document.
-- The Arabic documents were mostly stored out of line (TOAST: a product row is over 2 kB with
-- both languages' descriptions and SEO text), so ranking 1,000 Arabic matches read 3,164
-- buffers against 951 for the same products in English, and the Arabic search p95 sat at the
-- 50 ms target. STORAGE MAIN keeps the documents in the row (compressed); the descriptions and
-- other long text, which only the product page reads, go out of line first.
ALTER TABLE products ALTER COLUMN search_en SET STORAGE MAIN, ALTER COLUMN search_ar SET STORAGE MAIN;
-- Stored values keep their place until rewritten; `|| ''` makes a new value, stored the new
-- way. (The search trigger does not fire: it watches the source columns only.)
UPDATE products SET search_en = search_en || ''::tsvector, search_ar = search_ar || ''::tsvector;
