"""A small real-world catalog built through the management API (English and Arabic names)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import psycopg

from tests.support import bearer, call

ADMIN = bearer("admin", sub="catalog-admin")


async def admin_call(function: str, method: str, path: str, body: dict | None = None, **kwargs) -> dict:
    status, _, response = await call(
        function, method, path, body=body, headers=ADMIN | kwargs.pop("headers", {}), **kwargs
    )
    assert status in (200, 201), (status, response)
    return response


def sql(database_url: str, query: str, *params: object) -> list[tuple]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


@dataclass
class Catalog:
    ids: dict[str, str] = field(default_factory=dict)
    sellers: dict[str, str] = field(default_factory=dict)


PRODUCTS = [
    # key, en, ar, category, brand, rx, attributes, (sku, price, sale)
    (
        "panadol",
        "Panadol Extra 500mg Tablets",
        "بنادول إكسترا ٥٠٠ ملغ أقراص",
        "headache",
        "panadol",
        False,
        {"dosage_form": "tablet", "active_ingredient": "Paracetamol", "active_ingredient_ar": "باراسيتامول"},
        ("PAN-EXT-24", "18.50", None),
    ),
    (
        "brufen",
        "Brufen Ibuprofen Syrup 100ml",
        "بروفين شراب ايبوبروفين ١٠٠ مل",
        "pain",
        "brufen",
        False,
        {"dosage_form": "syrup", "active_ingredient": "Ibuprofen", "active_ingredient_ar": "ايبوبروفين"},
        ("BRU-SYR-100", "24.00", "21.00"),
    ),
    (
        "augmentin",
        "Augmentin 1g Tablets",
        "أوجمنتين ١ جرام أقراص",
        "antibiotics",
        None,
        True,
        {"dosage_form": "tablet", "active_ingredient": "Amoxicillin", "active_ingredient_ar": "أموكسيسيلين"},
        ("AUG-1G-14", "65.00", None),
    ),
    (
        "vitamin",
        "Vitamin D3 1000 IU Capsules",
        "فيتامين د٣ ١٠٠٠ وحدة كبسولات",
        "vitamins",
        None,
        False,
        {"dosage_form": "capsule", "active_ingredient": "Cholecalciferol", "active_ingredient_ar": "كوليكالسيفيرول"},
        ("VITD-1000-60", "39.90", None),
    ),
]


async def build_catalog(database_url: str) -> Catalog:
    catalog = Catalog()
    for key, en, ar, parent in [
        ("pain", "Pain Relief", "مسكنات", None),
        ("headache", "Headache", "صداع", "pain"),
        ("antibiotics", "Antibiotics", "مضادات حيوية", None),
        ("vitamins", "Vitamins", "فيتامينات", None),
    ]:
        body = {
            "name_en": en,
            "name_ar": ar,
            "slug_en": en.lower().replace(" ", "-"),
            "slug_ar": ar.replace(" ", "-"),
            "parent_id": catalog.ids.get(parent),
        }
        catalog.ids[key] = (await admin_call("create_category", "POST", "catalog/categories", body))["id"]
    for key, en, ar in [("panadol", "Panadol", "بنادول"), ("brufen", "Brufen", "بروفين")]:
        body = {"name_en": en, "name_ar": ar, "slug": key}
        catalog.ids[f"brand-{key}"] = (await admin_call("create_brand", "POST", "catalog/brands", body))["id"]
    for key, en, ar, category, brand, rx, attributes, (sku, price, sale) in PRODUCTS:
        await _add_product(catalog, key, en, ar, category, brand, rx, attributes, sku, price, sale)
    for slug, en, ar in [("nahdi", "Nahdi Pharmacy", "صيدلية النهدي"), ("dawaa", "Al-Dawaa", "صيدلية الدواء")]:
        seller_id = str(uuid.uuid4())
        sql(
            database_url,
            "INSERT INTO sellers (id, name_en, name_ar, slug) VALUES (%s, %s, %s, %s)",
            seller_id,
            en,
            ar,
            slug,
        )
        catalog.sellers[slug] = seller_id
    return catalog


async def _add_product(catalog: Catalog, key, en, ar, category, brand, rx, attributes, sku, price, sale) -> None:
    body = {
        "name_en": en,
        "name_ar": ar,
        "slug_en": f"{key}-{sku.lower()}",
        "slug_ar": f"{ar.split()[0]}-{key}",
        "category_id": catalog.ids[category],
        "brand_id": catalog.ids.get(f"brand-{brand}"),
        "requires_prescription": rx,
        "attributes": attributes,
        "description_en": f"{en}. Read the leaflet before use.",
        "description_ar": f"{ar}. اقرأ النشرة قبل الاستخدام.",
    }
    product = await admin_call("create_product", "POST", "catalog/products", body)
    catalog.ids[key] = product["id"]
    variant = {"sku": sku, "price": price, "sale_price": sale, "options": {"pack": "1"}}
    created = await admin_call(
        "create_variant",
        "POST",
        f"catalog/products/{product['id']}/variants",
        variant,
        route_params={"id": product["id"]},
    )
    catalog.ids[f"variant-{key}"] = created["id"]


async def put_offer(
    catalog: Catalog, seller: str, product_key: str, *, on_hand: int, price: str | None = None, role: str = "seller"
) -> tuple[int, dict]:
    seller_id, variant_id = catalog.sellers[seller], catalog.ids[f"variant-{product_key}"]
    headers = bearer(role, sub=f"{seller}-staff", seller_id=seller_id)
    status, _, body = await call(
        "put_offer",
        "PUT",
        f"sellers/{seller_id}/offers/{variant_id}",
        body={"on_hand": on_hand, "price": price},
        headers=headers,
        route_params={"seller_id": seller_id, "variant_id": variant_id},
    )
    return status, body
