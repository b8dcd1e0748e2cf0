-- depends: 0001.users-and-addresses
-- Catalog: categories, brands, products, variants, images, sellers and their offers, with
-- bilingual (English/Arabic) search.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Arabic search normalisation, applied to documents and queries alike: strip diacritics
-- (tashkeel U+064B-065F, superscript alef U+0670) and tatweel (U+0640), unify alef forms
-- (أ إ آ ٱ → ا), hamza carriers (ؤ → و, ئ → ي), alef maqsura (ى → ي) and ta marbuta (ة → ه).
-- Lower-cases too, so Latin text (ingredient names) in Arabic fields matches either case.
CREATE FUNCTION souq_normalize_ar(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN translate(lower(regexp_replace(value, '[\u064B-\u065F\u0670\u0640]', '', 'g')),
                 'أإآٱؤئىة', 'ااااوييه');

CREATE TABLE categories (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id      uuid REFERENCES categories (id),
    name_en        text NOT NULL CHECK (length(btrim(name_en)) BETWEEN 1 AND 120),
    name_ar        text NOT NULL CHECK (length(btrim(name_ar)) BETWEEN 1 AND 120),
    slug_en        text NOT NULL UNIQUE CHECK (slug_en ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    slug_ar        text NOT NULL UNIQUE CHECK (slug_ar !~ '[\s/?#%]' AND length(slug_ar) BETWEEN 1 AND 120),
    description_en text CHECK (length(description_en) <= 2000),
    description_ar text CHECK (length(description_ar) <= 2000),
    image_url      text CHECK (image_url ~ '^https?://'),
    sort_order     int NOT NULL DEFAULT 0,
    is_active      boolean NOT NULL DEFAULT true,
    version        int NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
-- Children of a node (tree building, descendant expansion for the category filter).
CREATE INDEX categories_by_parent ON categories (parent_id);

-- No cycles: walking up from the new parent must not meet the row itself. Parent changes are
-- serialised by a transaction-scoped advisory lock, so two concurrent moves (A under B, B
-- under A) cannot each pass the check before the other commits.
CREATE FUNCTION categories_reject_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('souq.categories.tree'));
    IF EXISTS (
        WITH RECURSIVE ancestors(id, parent_id) AS (
            SELECT id, parent_id FROM categories WHERE id = NEW.parent_id
            UNION
            SELECT c.id, c.parent_id FROM categories c JOIN ancestors a ON c.id = a.parent_id
        )
        SELECT 1 FROM ancestors WHERE id = NEW.id
    ) THEN
        RAISE EXCEPTION 'category % cannot be moved under its own descendant %', NEW.id, NEW.parent_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'categories_no_cycle';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER categories_no_cycle BEFORE INSERT OR UPDATE OF parent_id ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_reject_cycle();

CREATE TABLE brands (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name_en    text NOT NULL CHECK (length(btrim(name_en)) BETWEEN 1 AND 120),
    name_ar    text NOT NULL CHECK (length(btrim(name_ar)) BETWEEN 1 AND 120),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    logo_url   text CHECK (logo_url ~ '^https?://'),
    is_active  boolean NOT NULL DEFAULT true,
    version    int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name_en               text NOT NULL CHECK (length(btrim(name_en)) BETWEEN 1 AND 200),
    name_ar               text NOT NULL CHECK (length(btrim(name_ar)) BETWEEN 1 AND 200),
    description_en        text CHECK (length(description_en) <= 10000),
    description_ar        text CHECK (length(description_ar) <= 10000),
    slug_en               text NOT NULL UNIQUE CHECK (slug_en ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    slug_ar               text NOT NULL UNIQUE CHECK (slug_ar !~ '[\s/?#%]' AND length(slug_ar) BETWEEN 1 AND 200),
    meta_title_en         text CHECK (length(meta_title_en) <= 70),
    meta_title_ar         text CHECK (length(meta_title_ar) <= 70),
    meta_description_en   text CHECK (length(meta_description_en) <= 160),
    meta_description_ar   text CHECK (length(meta_description_ar) <= 160),
    category_id           uuid NOT NULL REFERENCES categories (id),
    brand_id              uuid REFERENCES brands (id),
    requires_prescription boolean NOT NULL DEFAULT false,
    is_active             boolean NOT NULL DEFAULT true,
    attributes            jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
    erp_product_id        text UNIQUE CHECK (length(erp_product_id) BETWEEN 1 AND 100),
    -- Lowest effective price over the active variants and offers ("from" price), kept by
    -- triggers below so price filters and sorts are index scans, not aggregates.
    min_price             numeric(12, 2),
    -- Search documents, kept by the trigger below (they need the brand's names).
    search_en             tsvector,
    search_ar             tsvector,
    search_names          text,
    version               int NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
-- Listing by category (the filter expands to descendants: category_id = ANY(...)), newest first.
CREATE INDEX products_category_newest ON products (category_id, created_at DESC, id DESC) WHERE is_active;
-- The unfiltered listing, newest first (the default sort) and its keyset continuation.
CREATE INDEX products_newest ON products (created_at DESC, id DESC) WHERE is_active;
-- min_price / max_price filters and price_asc / price_desc sorts.
CREATE INDEX products_price ON products (min_price, id) WHERE is_active;
-- rx=only / rx=exclude on the newest-first listing.
CREATE INDEX products_prescription_newest ON products (requires_prescription, created_at DESC, id DESC) WHERE is_active;
-- Listing by brand.
CREATE INDEX products_brand ON products (brand_id, created_at DESC) WHERE is_active;
-- attr.<key>=<value> filters: attributes @> '{"dosage_form": "tablet"}'.
CREATE INDEX products_attributes ON products USING gin (attributes jsonb_path_ops);
-- Full-text search, one index per language document.
CREATE INDEX products_search_en ON products USING gin (search_en);
CREATE INDEX products_search_ar ON products USING gin (search_ar);
-- Typo fallback: trigram similarity on the names (both languages, normalised).
CREATE INDEX products_search_names_trgm ON products USING gin (search_names gin_trgm_ops);

CREATE FUNCTION products_build_search() RETURNS trigger LANGUAGE plpgsql AS $$
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
    NEW.search_names := concat_ws(' ', lower(NEW.name_en), souq_normalize_ar(NEW.name_ar),
                                  lower(ingredient_en), souq_normalize_ar(ingredient_ar));
    RETURN NEW;
END $$;
CREATE TRIGGER products_search BEFORE INSERT OR UPDATE OF name_en, name_ar, description_en, description_ar,
    attributes, brand_id ON products FOR EACH ROW EXECUTE FUNCTION products_build_search();

-- A renamed brand re-indexes its products (the no-op update fires products_search).
CREATE FUNCTION brands_reindex_products() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE products SET brand_id = brand_id WHERE brand_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER brands_reindex AFTER UPDATE OF name_en, name_ar ON brands
    FOR EACH ROW WHEN (OLD.name_en IS DISTINCT FROM NEW.name_en OR OLD.name_ar IS DISTINCT FROM NEW.name_ar)
    EXECUTE FUNCTION brands_reindex_products();

CREATE TABLE variants (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id uuid NOT NULL REFERENCES products (id),
    sku        text NOT NULL UNIQUE CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    options    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(options) = 'object'),
    barcode    text UNIQUE CHECK (barcode ~ '^[0-9]{8,14}$'),
    price      numeric(12, 2) NOT NULL CHECK (price > 0),
    sale_price numeric(12, 2) CHECK (sale_price > 0 AND sale_price < price),
    is_active  boolean NOT NULL DEFAULT true,
    sort_order int NOT NULL DEFAULT 0,
    version    int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- A product's variants (detail page, price refresh).
CREATE INDEX variants_by_product ON variants (product_id);

CREATE TABLE product_images (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    url        text NOT NULL CHECK (url ~ '^https?://'),
    alt_en     text CHECK (length(alt_en) <= 200),
    alt_ar     text CHECK (length(alt_ar) <= 200),
    sort_order int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- A product's images in display order.
CREATE INDEX product_images_by_product ON product_images (product_id, sort_order, id);

CREATE TABLE sellers (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name_en    text NOT NULL CHECK (length(btrim(name_en)) BETWEEN 1 AND 120),
    name_ar    text NOT NULL CHECK (length(btrim(name_ar)) BETWEEN 1 AND 120),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    status     text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('PENDING', 'ACTIVE', 'SUSPENDED')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE offers (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    variant_id          uuid NOT NULL REFERENCES variants (id),
    seller_id           uuid NOT NULL REFERENCES sellers (id),
    -- The seller's own price; NULL sells at the variant's price (its sale price when set).
    price               numeric(12, 2) CHECK (price > 0),
    on_hand             int NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    -- Units held by unpaid orders (the orders issue). The last line of defence against overselling.
    reserved            int NOT NULL DEFAULT 0,
    low_stock_threshold int NOT NULL DEFAULT 5 CHECK (low_stock_threshold >= 0),
    is_active           boolean NOT NULL DEFAULT true,
    version             int NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT offers_reserved_within_on_hand CHECK (reserved >= 0 AND reserved <= on_hand),
    UNIQUE (variant_id, seller_id)
);
-- A seller's offers (seller dashboard, seller filter on listings).
CREATE INDEX offers_by_seller ON offers (seller_id, variant_id);
-- in_stock=true and availability: only offers with sellable units.
CREATE INDEX offers_in_stock ON offers (variant_id) WHERE is_active AND on_hand - reserved > 0;
-- Seller low-stock view.
CREATE INDEX offers_low_stock ON offers (seller_id) WHERE on_hand - reserved <= low_stock_threshold;

-- products.min_price: the lowest effective price (offer price, else the variant's sale or base
-- price) over the product's active variants and active offers; the variant's own price when
-- no seller offers it yet. Fires on price and activity changes only, never on stock moves.
CREATE FUNCTION products_refresh_min_price(target uuid) RETURNS void LANGUAGE sql AS $$
    UPDATE products p SET min_price = (
        SELECT min(coalesce(o.price, v.sale_price, v.price))
        FROM variants v
        LEFT JOIN offers o ON o.variant_id = v.id AND o.is_active
        WHERE v.product_id = target AND v.is_active
    )
    WHERE p.id = target
$$;

CREATE FUNCTION variants_price_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM products_refresh_min_price(CASE WHEN TG_OP = 'DELETE' THEN OLD.product_id ELSE NEW.product_id END);
    RETURN NULL;
END $$;
CREATE TRIGGER variants_min_price AFTER INSERT OR DELETE OR UPDATE OF price, sale_price, is_active ON variants
    FOR EACH ROW EXECUTE FUNCTION variants_price_changed();

CREATE FUNCTION offers_price_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM products_refresh_min_price(v.product_id)
    FROM variants v WHERE v.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.variant_id ELSE NEW.variant_id END;
    RETURN NULL;
END $$;
CREATE TRIGGER offers_min_price AFTER INSERT OR DELETE OR UPDATE OF price, is_active ON offers
    FOR EACH ROW EXECUTE FUNCTION offers_price_changed();
