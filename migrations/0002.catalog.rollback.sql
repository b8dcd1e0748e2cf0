DROP TABLE offers;
DROP FUNCTION offers_price_changed();
DROP TABLE sellers;
DROP TABLE product_images;
DROP TABLE variants;
DROP FUNCTION variants_price_changed();
DROP FUNCTION products_refresh_min_price(uuid);
DROP TABLE products;
DROP FUNCTION products_build_search();
DROP TABLE brands;
DROP FUNCTION brands_reindex_products();
DROP TABLE categories;
DROP FUNCTION categories_reject_cycle();
DROP FUNCTION souq_normalize_ar(text);
-- pg_trgm stays installed: re-applying uses CREATE EXTENSION IF NOT EXISTS.
