"""Deterministic rows of the generated catalog (scripts.seed_catalog): the same seed gives the
same ids, names, prices and stock, so two seeded databases can be compared row for row.

Rows are tuples in the column order of the COPY statements in shared/catalog/repo_seed.py.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from scripts import catalog_names as names

# Fixed, so that created_at (the "newest" sort) is reproducible too.
CATALOG_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
CATALOG_AGE_SECONDS = 2 * 365 * 86400
IMAGE_HOST = "https://cdn.souq.example/products"
BARCODE_PREFIX = "628"  # GS1 prefix of Saudi Arabia


@dataclass
class ProductBatch:
    products: list[tuple] = field(default_factory=list)
    variants: list[tuple] = field(default_factory=list)
    images: list[tuple] = field(default_factory=list)
    offers: list[tuple] = field(default_factory=list)


def ean13(number: int) -> str:
    body = f"{BARCODE_PREFIX}{number:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


class CatalogGenerator:
    """Categories, brands and sellers up front; products in batches, numbered from 0."""

    def __init__(self, seed: int, *, sellers: int, offers_per_variant: int) -> None:
        self.rng = random.Random(seed)
        self.offers_per_variant = min(offers_per_variant, sellers)
        self.categories = self._categories()
        self.category_ids = {row[3]: row[0] for row in self.categories}  # slug_en -> id
        self.brand_ids = {brand.slug: self._uuid() for brand in names.BRANDS}
        self.sellers = self._sellers(sellers)
        self.seller_ids = [row[0] for row in self.sellers]
        self.slugs_seen: dict[str, int] = defaultdict(int)  # base slug -> times used
        self.next_barcode = 0

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _categories(self) -> list[tuple]:
        """(id, parent_id, name_en, slug_en, name_ar, slug_ar, sort_order): parents before children."""
        rows: list[tuple] = []
        for order, (slug, name_en, name_ar, children) in enumerate(names.CATEGORY_TREE):
            parent_id = self._uuid()
            rows.append((parent_id, None, name_en, slug, name_ar, names.slug_ar(name_ar), order))
            rows += [
                (self._uuid(), parent_id, child_en, child_slug, child_ar, names.slug_ar(child_ar), child_order)
                for child_order, (child_slug, child_en, child_ar) in enumerate(children)
            ]
        return rows

    def brand_rows(self) -> list[tuple]:
        """(id, name_en, name_ar, slug, logo_url)"""
        return [
            (self.brand_ids[b.slug], b.name_en, b.name_ar, b.slug, f"https://cdn.souq.example/brands/{b.slug}.png")
            for b in names.BRANDS
        ]

    def _sellers(self, count: int) -> list[tuple]:
        """(id, name_en, name_ar, slug): the known chains first, then numbered branches of them."""
        rows = []
        for index in range(count):
            slug, name_en, name_ar = names.SELLERS[index % len(names.SELLERS)]
            branch = index // len(names.SELLERS)
            if branch:
                slug, name_en, name_ar = f"{slug}-{branch + 1}", f"{name_en} {branch + 1}", f"{name_ar} {branch + 1}"
            rows.append((self._uuid(), name_en, name_ar, slug))
        return rows

    def unique_slugs(self, name_en: str, name_ar: str) -> tuple[str, str]:
        """Same-named products (several sellers' listings of one medicine) get -2, -3, … in both scripts."""
        base = names.slug_en(name_en)
        self.slugs_seen[base] += 1
        seen = self.slugs_seen[base]
        suffix = f"-{seen}" if seen > 1 else ""
        return base + suffix, names.slug_ar(name_ar) + suffix

    def batch(self, start: int, count: int) -> ProductBatch:
        batch = ProductBatch()
        for index in range(start, start + count):
            self._product(index, batch)
        return batch

    def _product(self, index: int, batch: ProductBatch) -> None:
        rng = self.rng
        formulation = rng.choice(names.FORMULATIONS)
        brand = names.BRANDS_BY_SLUG[rng.choice(formulation.brands)]
        form = rng.choice(list(formulation.forms))
        strength_en, strength_ar = names.strength_labels(rng.choice(formulation.forms[form]))
        line_en, line_ar = rng.choice(names.LINES) if not formulation.rx and rng.random() < 0.5 else ("", "")
        label_en, label_ar = names.FORMS[form][:2]
        ingredient_title = formulation.ingredient_en[:1].upper() + formulation.ingredient_en[1:]
        name_en = " ".join(p for p in (brand.name_en, line_en, ingredient_title, strength_en, label_en) if p)
        name_ar = " ".join(p for p in (brand.name_ar, line_ar, formulation.ingredient_ar, strength_ar, label_ar) if p)
        product_id = self._uuid()
        created = CATALOG_EPOCH - timedelta(seconds=rng.randrange(CATALOG_AGE_SECONDS))
        packs = self._packs(form)
        attributes = self._attributes(formulation, brand, form, strength_en, packs[0][1])
        slug_en, slug_ar = self.unique_slugs(name_en, name_ar)
        description_en, description_ar = self._descriptions(
            formulation, brand, label_en, label_ar, strength_en, strength_ar
        )
        batch.products.append(
            (
                product_id,
                name_en,
                name_ar,
                description_en,
                description_ar,
                slug_en,
                slug_ar,
                self.category_ids[formulation.category],
                self.brand_ids[brand.slug],
                formulation.rx,
                rng.random() >= 0.02,
                json.dumps(attributes, ensure_ascii=False),
                f"ERP-{index + 1:07d}",
                created,
                created,
            )
        )
        self._variants(index, product_id, brand.slug, formulation.price, packs, created, batch)
        self._images(product_id, slug_en, name_en, name_ar, created, batch)

    @staticmethod
    def _attributes(
        formulation: names.Formulation, brand: names.Brand, form: str, strength_en: str, pack_size: str
    ) -> dict[str, str | None]:
        return {
            "dosage_form": form,
            "strength": strength_en or None,
            "active_ingredient": formulation.ingredient_en,
            "active_ingredient_ar": formulation.ingredient_ar,
            "generic_name": formulation.generic_en,
            "generic_name_ar": formulation.generic_ar,
            "manufacturer": brand.manufacturer,
            "pack_size": pack_size,
        }

    def _packs(self, form: str) -> list[tuple[int, str]]:
        """1-3 distinct pack sizes, smallest first: [(24, '24 tablets'), …]."""
        sizes, unit = names.FORMS[form][4], names.FORMS[form][2]
        count = min(len(sizes), self.rng.choices((1, 2, 3), weights=(45, 35, 20))[0])
        return [(size, f"{size} {unit}") for size in sorted(self.rng.sample(sizes, count))]

    def _descriptions(
        self,
        formulation: names.Formulation,
        brand: names.Brand,
        label_en: str,
        label_ar: str,
        strength_en: str,
        strength_ar: str,
    ) -> tuple[str, str]:
        uses_en, uses_ar = names.CATEGORY_USES[formulation.category]
        advice = self.rng.sample(names.ADVICE, 2) + ([names.RX_ADVICE] if formulation.rx else [])
        with_en = " ".join(p for p in (formulation.ingredient_en, strength_en) if p)
        with_ar = " ".join(p for p in (formulation.ingredient_ar, strength_ar) if p)
        if formulation.generic_en != formulation.ingredient_en:  # "vitamin D3 (cholecalciferol)"
            with_en, with_ar = f"{with_en} ({formulation.generic_en})", f"{with_ar} ({formulation.generic_ar})"
        english = (
            f"{brand.name_en} {label_en.lower()} with {with_en} for {uses_en}. "
            f"Made by {brand.manufacturer}. " + " ".join(en for en, _ in advice)
        )
        arabic = (
            f"{label_ar} {brand.name_ar} تحتوي على {with_ar} {uses_ar}. "
            f"من إنتاج {brand.manufacturer}. " + " ".join(ar for _, ar in advice)
        )
        return english, arabic

    def _variants(
        self,
        index: int,
        product_id: uuid.UUID,
        brand_slug: str,
        price_range: tuple[float, float],
        packs: list[tuple[int, str]],
        created: datetime,
        batch: ProductBatch,
    ) -> None:
        """(id, product_id, sku, options, barcode, price, sale_price, sort_order, created_at, updated_at)"""
        rng = self.rng
        base_price, base_size = rng.uniform(*price_range), packs[0][0]
        sellers = rng.sample(self.seller_ids, self.offers_per_variant)
        for order, (size, label) in enumerate(packs):
            variant_id = self._uuid()
            price = money(base_price * (size / base_size) ** 0.85)  # bigger packs cost less per unit
            sale = money(float(price) * rng.uniform(0.7, 0.95)) if rng.random() < 0.15 else None
            sale = sale if sale is not None and Decimal("0") < sale < price else None
            barcode = ean13(self._barcode()) if rng.random() < 0.9 else None
            sku = f"{brand_slug[:6].upper().strip('-')}-{index + 1:07d}-{order + 1}"
            batch.variants.append(
                (
                    variant_id,
                    product_id,
                    sku,
                    json.dumps({"pack_size": label}),
                    barcode,
                    price,
                    sale,
                    order,
                    created,
                    created,
                )
            )
            self._offers(variant_id, sale or price, sellers, created, batch)

    def _barcode(self) -> int:
        self.next_barcode += 1
        return self.next_barcode

    def _offers(
        self,
        variant_id: uuid.UUID,
        effective: Decimal,
        sellers: list[uuid.UUID],
        created: datetime,
        batch: ProductBatch,
    ) -> None:
        """(id, variant_id, seller_id, price, on_hand, reserved, low_stock_threshold, is_active,
        created_at, updated_at)"""
        rng = self.rng
        for seller_id in sellers:
            price = money(float(effective) * rng.uniform(0.9, 1.08)) if rng.random() < 0.25 else None
            on_hand = 0 if rng.random() < 0.12 else rng.randint(1, 200)
            batch.offers.append(
                (
                    self._uuid(),
                    variant_id,
                    seller_id,
                    price,
                    on_hand,
                    0,
                    rng.choice((3, 5, 5, 10)),
                    rng.random() >= 0.03,
                    created,
                    created,
                )
            )

    def _images(
        self, product_id: uuid.UUID, slug: str, name_en: str, name_ar: str, created: datetime, batch: ProductBatch
    ) -> None:
        """(id, product_id, url, alt_en, alt_ar, sort_order, created_at)"""
        for order in range(self.rng.choice((0, 1, 1, 2))):
            batch.images.append(
                (self._uuid(), product_id, f"{IMAGE_HOST}/{slug}/{order + 1}.jpg", name_en, name_ar, order, created)
            )
