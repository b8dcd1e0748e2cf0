DROP INDEX products_category_price;
ALTER TABLE products ADD COLUMN search_names text;
-- The 0002 trigger function (it also kept search_names), then the names backfilled through it.
CREATE OR REPLACE FUNCTION products_build_search() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    brand_en text;
    brand_ar text;
    ingredient_en text := concat_ws(' ', NEW.attributes ->> 'active_ingredient', NEW.attributes ->> 'generic_name');
    ingredient_ar text := concat_ws(' ', NEW.attributes ->> 'active_ingredient_ar', NEW.attributes ->> 'generic_name_ar');
BEGIN
    SELECT b.name_en, b.name_ar INTO brand_en, brand_ar FROM brands b WHERE b.id = NEW.brand_id;
    NEW.search_en :=
        setweight(to_tsvector('english', NEW.name_en), 'A')
        || setweight(to_tsvector('english', concat_ws(' ', brand_en, ingredient_en)), 'B')
        || setweight(to_tsvector('english', coalesce(NEW.description_en, '')), 'C');
    NEW.search_ar :=
        setweight(to_tsvector('arabic', souq_normalize_ar(NEW.name_ar)), 'A')
        || setweight(to_tsvector('arabic', souq_normalize_ar(concat_ws(' ', brand_ar, ingredient_ar, ingredient_en))), 'B')
        || setweight(to_tsvector('arabic', souq_normalize_ar(coalesce(NEW.description_ar, ''))), 'C');
    NEW.search_names := concat_ws(' ', lower(NEW.name_en), souq_normalize_ar(NEW.name_ar),
                                  lower(ingredient_en), souq_normalize_ar(ingredient_ar));
    RETURN NEW;
END $$;
UPDATE products SET brand_id = brand_id;
CREATE INDEX products_search_names_trgm ON products USING gin (search_names gin_trgm_ops);
DROP FUNCTION souq_search_words(text);
DROP TABLE search_words;
