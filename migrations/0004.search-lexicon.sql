-- depends: 0003.orders
-- Faster catalog search (measured on 200k products, see bench/README.md):
-- * typo tolerance through a small lexicon of the catalog's words instead of trigram matching
--   every product's names (the word-similarity recheck of thousands of rows took 190-260 ms);
-- * cheapest-first listings inside a category by index.

CREATE TABLE search_words (
    word text PRIMARY KEY CHECK (length(word) BETWEEN 3 AND 60)
);
-- Nearest known word for a misspelt one: `word % 'paracetmol' ORDER BY similarity`.
CREATE INDEX search_words_trgm ON search_words USING gin (word gin_trgm_ops);

-- The words a product is found by (names, brand, ingredients in both scripts), normalised like
-- queries are; split on spaces and punctuation, Arabic comma and semicolon included.
CREATE FUNCTION souq_search_words(value text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT w FROM regexp_split_to_table(souq_normalize_ar(value), '[[:space:][:punct:]،؛]+') AS w
    WHERE length(w) BETWEEN 3 AND 60
$$;

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
    -- Latin ingredient names go into the Arabic document too: Arabic-speaking shoppers type them.
    NEW.search_ar :=
        setweight(to_tsvector('arabic', souq_normalize_ar(NEW.name_ar)), 'A')
        || setweight(to_tsvector('arabic', souq_normalize_ar(concat_ws(' ', brand_ar, ingredient_ar, ingredient_en))), 'B')
        || setweight(to_tsvector('arabic', souq_normalize_ar(coalesce(NEW.description_ar, ''))), 'C');
    INSERT INTO search_words (word)
    SELECT DISTINCT souq_search_words(concat_ws(' ', NEW.name_en, NEW.name_ar, brand_en, brand_ar,
                                                ingredient_en, ingredient_ar))
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END $$;

DROP INDEX products_search_names_trgm;
ALTER TABLE products DROP COLUMN search_names;

INSERT INTO search_words (word)
SELECT DISTINCT souq_search_words(concat_ws(' ', p.name_en, p.name_ar, b.name_en, b.name_ar,
                                            p.attributes ->> 'active_ingredient', p.attributes ->> 'generic_name',
                                            p.attributes ->> 'active_ingredient_ar', p.attributes ->> 'generic_name_ar'))
FROM products p LEFT JOIN brands b ON b.id = p.brand_id
ON CONFLICT DO NOTHING;

-- category=…&sort=price_asc|price_desc: the cheapest products of one category by index.
CREATE INDEX products_category_price ON products (category_id, min_price, id) WHERE is_active;
