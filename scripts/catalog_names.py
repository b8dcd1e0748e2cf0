"""Bilingual (English/Arabic) vocabulary of the generated pharmacy catalog (scripts.seed_catalog).

Real-looking brands, active ingredients, strengths, dosage forms and pack sizes as sold in Gulf
pharmacies. The generator combines them; nothing here is random.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# The tables below are aligned by hand, one row per line: the formatter would put every element
# on its own line (652 lines instead of 293).
# fmt: off
# (slug_en, name_en, name_ar, [(child slug_en, child name_en, child name_ar), ...])
CATEGORY_TREE = [
    ("pain-relief", "Pain Relief", "مسكنات", [
        ("headache", "Headache", "صداع"), ("fever", "Fever", "الحمى"),
        ("muscle-joint-pain", "Muscle & Joint Pain", "آلام العضلات والمفاصل")]),
    ("cold-flu", "Cold & Flu", "البرد والانفلونزا", [
        ("cough", "Cough", "الكحة"), ("nasal-congestion", "Nasal Congestion", "احتقان الأنف"),
        ("sore-throat", "Sore Throat", "التهاب الحلق")]),
    ("vitamins-supplements", "Vitamins & Supplements", "فيتامينات ومكملات", [
        ("vitamin-d", "Vitamin D", "فيتامين د"), ("multivitamins", "Multivitamins", "فيتامينات متعددة"),
        ("omega-3", "Omega-3 & Fish Oil", "أوميغا 3 وزيت السمك"), ("minerals", "Minerals", "المعادن"),
        ("vitamin-c-immunity", "Vitamin C & Immunity", "فيتامين سي والمناعة")]),
    ("skin-care", "Skin Care", "العناية بالبشرة", [
        ("moisturisers", "Moisturisers", "المرطبات"), ("skin-repair", "Skin Repair", "ترميم البشرة")]),
    ("baby-care", "Baby Care", "العناية بالطفل", [
        ("nappy-rash", "Nappy Rash", "التسلخات"), ("baby-colic", "Baby Colic", "مغص الرضع")]),
    ("diabetes-care", "Diabetes Care", "رعاية مرضى السكري", [
        ("diabetes-medicines", "Diabetes Medicines", "أدوية السكري"),
        ("low-sugar", "Low Blood Sugar", "هبوط السكر")]),
    ("digestive-health", "Digestive Health", "صحة الجهاز الهضمي", [
        ("heartburn-acidity", "Heartburn & Acidity", "الحموضة وحرقة المعدة"),
        ("diarrhoea", "Diarrhoea", "الإسهال"), ("constipation", "Constipation", "الإمساك"),
        ("stomach-cramps", "Stomach Cramps", "تقلصات المعدة")]),
    ("allergy", "Allergy", "الحساسية", [
        ("hay-fever", "Hay Fever", "حمى القش"), ("antihistamines", "Antihistamines", "مضادات الهيستامين")]),
    ("first-aid", "First Aid", "الإسعافات الأولية", [
        ("antiseptics", "Antiseptics", "المطهرات"), ("wound-care", "Wound Care", "العناية بالجروح")]),
    ("oral-care", "Oral Care", "العناية بالفم", [
        ("toothpaste", "Toothpaste", "معجون الأسنان"), ("mouthwash", "Mouthwash", "غسول الفم")]),
    ("prescription-medicines", "Prescription Medicines", "أدوية بوصفة طبية", [
        ("antibiotics", "Antibiotics", "المضادات الحيوية"), ("blood-pressure", "Blood Pressure", "ضغط الدم"),
        ("cholesterol", "Cholesterol", "الكوليسترول")]),
]

# What products of a leaf category are for, for the descriptions: (English, Arabic with its preposition).
CATEGORY_USES = {
    "headache": ("fast relief of headache and mild to moderate pain", "لتخفيف الصداع والآلام الخفيفة والمتوسطة بسرعة"),
    "fever": ("reducing fever and easing pain in children and adults", "لخفض الحرارة وتخفيف الألم للأطفال والكبار"),
    "muscle-joint-pain": ("relief of muscle, back and joint pain", "لتخفيف آلام العضلات والظهر والمفاصل"),
    "cough": ("soothing dry and chesty cough", "لتهدئة الكحة الجافة والمصحوبة ببلغم"),
    "nasal-congestion": ("relief of a blocked or runny nose", "لتخفيف انسداد الأنف والرشح"),
    "sore-throat": ("soothing a sore throat", "لتهدئة التهاب الحلق"),
    "vitamin-d": ("healthy bones, teeth and muscles", "لصحة العظام والأسنان والعضلات"),
    "multivitamins": ("daily nutritional support and energy", "لدعم التغذية اليومية والطاقة"),
    "omega-3": ("heart, brain and eye health", "لصحة القلب والدماغ والعينين"),
    "minerals": ("topping up essential minerals", "لتعويض المعادن الأساسية"),
    "vitamin-c-immunity": ("supporting the immune system", "لدعم جهاز المناعة"),
    "moisturisers": ("daily hydration of dry and sensitive skin", "لترطيب البشرة الجافة والحساسة يوميا"),
    "skin-repair": ("repairing dry, cracked or irritated skin", "لترميم البشرة الجافة والمتشققة والمتهيجة"),
    "nappy-rash": ("treating and preventing nappy rash", "لعلاج التسلخات والوقاية منها"),
    "baby-colic": ("relief of wind and colic in babies", "لتخفيف الغازات والمغص عند الرضع"),
    "diabetes-medicines": ("controlling blood sugar in type 2 diabetes", "للتحكم بسكر الدم في السكري من النوع الثاني"),
    "low-sugar": ("quickly raising low blood sugar", "لرفع سكر الدم المنخفض بسرعة"),
    "heartburn-acidity": ("relief of heartburn and acid indigestion", "لتخفيف حرقة المعدة والحموضة"),
    "diarrhoea": ("relief of acute diarrhoea", "لتخفيف الإسهال الحاد"),
    "constipation": ("gentle overnight relief of constipation", "لعلاج الإمساك بلطف خلال الليل"),
    "stomach-cramps": ("relief of stomach cramps and spasms", "لتخفيف تقلصات المعدة والمغص"),
    "hay-fever": ("non-drowsy relief of hay fever symptoms", "لتخفيف أعراض حمى القش دون نعاس"),
    "antihistamines": ("relief of allergy symptoms such as sneezing and itching", "لتخفيف أعراض الحساسية مثل العطاس والحكة"),
    "antiseptics": ("cleaning cuts and grazes to prevent infection", "لتطهير الجروح والخدوش والوقاية من العدوى"),
    "wound-care": ("treating infected cuts and skin infections", "لعلاج الجروح الملتهبة والتهابات الجلد"),
    "toothpaste": ("sensitive teeth and healthy gums", "للأسنان الحساسة واللثة الصحية"),
    "mouthwash": ("fresh breath and plaque control", "لنفس منعش والتحكم بالجير"),
    "antibiotics": ("bacterial infections, as prescribed by a doctor", "لعلاج الالتهابات البكتيرية حسب وصفة الطبيب"),
    "blood-pressure": ("treating high blood pressure", "لعلاج ارتفاع ضغط الدم"),
    "cholesterol": ("lowering cholesterol", "لخفض الكوليسترول"),
}


class Brand(NamedTuple):
    slug: str
    name_en: str
    name_ar: str
    manufacturer: str


BRANDS = [Brand(*row) for row in [
    ("panadol", "Panadol", "بنادول", "Haleon"), ("adol", "Adol", "أدول", "Julphar"),
    ("fevadol", "Fevadol", "فيفادول", "SPIMACO"), ("tylenol", "Tylenol", "تايلينول", "Kenvue"),
    ("calpol", "Calpol", "كالبول", "Haleon"), ("brufen", "Brufen", "بروفين", "Abbott"),
    ("nurofen", "Nurofen", "نيوروفين", "Reckitt"), ("advil", "Advil", "أدفيل", "Haleon"),
    ("voltaren", "Voltaren", "فولتارين", "Haleon"), ("cataflam", "Cataflam", "كتافلام", "Novartis"),
    ("claritine", "Claritine", "كلاريتين", "Bayer"), ("zyrtec", "Zyrtec", "زيرتك", "UCB"),
    ("telfast", "Telfast", "تلفاست", "Sanofi"), ("aerius", "Aerius", "إيريوس", "Organon"),
    ("otrivin", "Otrivin", "أوتريفين", "Haleon"), ("actifed", "Actifed", "أكتيفيد", "Kenvue"),
    ("strepsils", "Strepsils", "ستربسلس", "Reckitt"), ("vicks", "Vicks", "فيكس", "Procter & Gamble"),
    ("prospan", "Prospan", "بروسبان", "Engelhard Arzneimittel"), ("losec", "Losec", "لوسك", "AstraZeneca"),
    ("nexium", "Nexium", "نيكسيوم", "AstraZeneca"), ("gaviscon", "Gaviscon", "جافيسكون", "Reckitt"),
    ("imodium", "Imodium", "إيموديوم", "Kenvue"), ("dulcolax", "Dulcolax", "دولكولاكس", "Sanofi"),
    ("buscopan", "Buscopan", "بوسكوبان", "Sanofi"), ("centrum", "Centrum", "سنتروم", "Haleon"),
    ("supradyn", "Supradyn", "سوبرادين", "Bayer"), ("redoxon", "Redoxon", "ريدوكسون", "Bayer"),
    ("solgar", "Solgar", "سولجار", "Solgar"), ("jamieson", "Jamieson", "جاميسون", "Jamieson Wellness"),
    ("vitabiotics", "Vitabiotics", "فيتابيوتكس", "Vitabiotics"),
    ("natures-bounty", "Nature's Bounty", "نيتشرز باونتي", "Nestlé Health Science"),
    ("seven-seas", "Seven Seas", "سفن سيز", "P&G Health"),
    ("feroglobin", "Feroglobin", "فيروجلوبين", "Vitabiotics"), ("cetaphil", "Cetaphil", "سيتافيل", "Galderma"),
    ("cerave", "CeraVe", "سيرافي", "L'Oréal"), ("eucerin", "Eucerin", "يوسيرين", "Beiersdorf"),
    ("bepanthen", "Bepanthen", "بيبانثين", "Bayer"), ("sudocrem", "Sudocrem", "سودوكريم", "Teva"),
    ("infacol", "Infacol", "إنفاكول", "Teva"), ("sensodyne", "Sensodyne", "سنسوداين", "Haleon"),
    ("parodontax", "Parodontax", "بارودونتكس", "Haleon"), ("listerine", "Listerine", "ليسترين", "Kenvue"),
    ("betadine", "Betadine", "بيتادين", "Mundipharma"), ("dettol", "Dettol", "ديتول", "Reckitt"),
    ("fucidin", "Fucidin", "فيوسيدين", "LEO Pharma"), ("glucophage", "Glucophage", "جلوكوفاج", "Merck"),
    ("amaryl", "Amaryl", "أماريل", "Sanofi"), ("dextro-energy", "Dextro Energy", "دكسترو إنرجي", "Dextro Energy"),
    ("augmentin", "Augmentin", "أوجمنتين", "GSK"), ("amoxil", "Amoxil", "أموكسيل", "GSK"),
    ("zithromax", "Zithromax", "زيثروماكس", "Pfizer"), ("norvasc", "Norvasc", "نورفاسك", "Pfizer"),
    ("lipitor", "Lipitor", "ليبيتور", "Pfizer"), ("crestor", "Crestor", "كريستور", "AstraZeneca"),
    ("spimaco", "SPIMACO", "سبيماكو", "SPIMACO"), ("jamjoom", "Jamjoom Pharma", "جمجوم فارما", "Jamjoom Pharma"),
    ("tabuk", "Tabuk", "تبوك", "Tabuk Pharmaceuticals"), ("hikma", "Hikma", "هيكما", "Hikma"),
]]
BRANDS_BY_SLUG = {brand.slug: brand for brand in BRANDS}

# Product lines that consumer brands put between the brand and the ingredient ("Panadol Extra").
LINES = [("Extra", "إكسترا"), ("Advance", "أدفانس"), ("Rapid", "رابيد"), ("Plus", "بلس"), ("Max", "ماكس"),
         ("Original", "أوريجينال"), ("Sensitive", "سينسيتف"), ("Junior", "جونيور"), ("Night", "نايت"),
         ("Duo", "ديو"), ("Pro", "برو"), ("Forte", "فورت"), ("Gold", "جولد"), ("Daily", "ديلي")]

# dosage form: English label, Arabic label, pack unit English, pack unit Arabic, pack sizes
FORMS = {
    "tablet": ("Tablets", "أقراص", "tablets", "قرص", (10, 20, 24, 30, 48, 60, 100)),
    "caplet": ("Caplets", "كبلت", "caplets", "كبلت", (12, 24, 48)),
    "effervescent": ("Effervescent Tablets", "أقراص فوارة", "tablets", "قرص", (10, 20)),
    "capsule": ("Capsules", "كبسولات", "capsules", "كبسولة", (14, 20, 28, 30, 60)),
    "softgel": ("Softgels", "كبسولات جيلاتينية", "softgels", "كبسولة", (30, 60, 90, 120)),
    "chewable": ("Chewable Tablets", "أقراص للمضغ", "tablets", "قرص", (12, 16, 24, 48)),
    "lozenge": ("Lozenges", "أقراص استحلاب", "lozenges", "قرص", (16, 24, 36)),
    "syrup": ("Syrup", "شراب", "ml", "مل", (60, 100, 120, 200)),
    "suspension": ("Oral Suspension", "معلق فموي", "ml", "مل", (60, 100, 150)),
    "drops": ("Drops", "نقط", "ml", "مل", (10, 15, 30, 50)),
    "nasal_spray": ("Nasal Spray", "بخاخ للأنف", "ml", "مل", (10, 15, 20)),
    "suppository": ("Suppositories", "تحاميل", "suppositories", "تحميلة", (6, 10, 12)),
    "cream": ("Cream", "كريم", "g", "غ", (15, 30, 50, 100)),
    "ointment": ("Ointment", "مرهم", "g", "غ", (15, 30, 50)),
    "gel": ("Gel", "جل", "g", "غ", (20, 50, 100, 150)),
    "lotion": ("Lotion", "لوشن", "ml", "مل", (100, 200, 473)),
    "solution": ("Solution", "محلول", "ml", "مل", (60, 125, 250, 500)),
    "toothpaste": ("Toothpaste", "معجون أسنان", "ml", "مل", (50, 75, 100)),
    "mouthwash": ("Mouthwash", "غسول للفم", "ml", "مل", (250, 500, 1000)),
}

UNITS_AR = {"mg": "ملغ", "g": "غ", "mcg": "مكغ", "IU": "وحدة دولية", "%": "%", "mg/5ml": "ملغ/5 مل",
            "mg/ml": "ملغ/مل"}
UNITS_EN = {"mg/5ml": "mg/5 ml"}


class Formulation(NamedTuple):
    ingredient_en: str
    ingredient_ar: str
    generic_en: str
    generic_ar: str
    category: str  # leaf slug_en
    brands: tuple[str, ...]
    forms: dict[str, tuple[str, ...]]  # dosage form -> strengths ("" = none on the label)
    rx: bool
    price: tuple[float, float]  # SAR, smallest pack


def _forms(spec: str) -> dict[str, tuple[str, ...]]:
    """'tablet:500 mg,1 g;syrup:120 mg/5ml' -> {'tablet': ('500 mg', '1 g'), 'syrup': ('120 mg/5ml',)}"""
    return {form: tuple(strengths.split(",")) for form, strengths in (part.split(":") for part in spec.split(";"))}


def _formulation(ing_en: str, ing_ar: str, generic: str, category: str, brands: str, forms: str,
                 rx: bool, low: float, high: float) -> Formulation:
    generic_en, _, generic_ar = generic.partition("|")
    return Formulation(ing_en, ing_ar, generic_en or ing_en, generic_ar or ing_ar, category,
                       tuple(brands.split()), _forms(forms), rx, (low, high))


F = _formulation
FORMULATIONS = [
    F("paracetamol", "باراسيتامول", "acetaminophen|أسيتامينوفين", "headache", "panadol adol fevadol tylenol spimaco jamjoom",
      "tablet:500 mg,650 mg,1000 mg;caplet:500 mg;effervescent:500 mg", False, 6, 22),
    F("paracetamol", "باراسيتامول", "acetaminophen|أسيتامينوفين", "fever", "calpol adol fevadol panadol",
      "syrup:120 mg/5ml,250 mg/5ml;drops:100 mg/ml;suppository:125 mg,250 mg", False, 8, 24),
    F("ibuprofen", "ايبوبروفين", "", "muscle-joint-pain", "brufen nurofen advil hikma",
      "tablet:200 mg,400 mg,600 mg;capsule:200 mg;gel:5 %", False, 9, 32),
    F("ibuprofen", "ايبوبروفين", "", "fever", "brufen nurofen", "syrup:100 mg/5ml;suspension:100 mg/5ml", False, 12, 28),
    F("diclofenac", "ديكلوفيناك", "diclofenac diethylamine|ديكلوفيناك ديثيلامين", "muscle-joint-pain",
      "voltaren cataflam", "gel:1 %,2 %", False, 15, 48),
    F("diclofenac", "ديكلوفيناك", "diclofenac potassium|ديكلوفيناك البوتاسيوم", "muscle-joint-pain",
      "cataflam voltaren tabuk", "tablet:25 mg,50 mg,75 mg", True, 12, 40),
    F("loratadine", "لوراتادين", "", "antihistamines", "claritine spimaco", "tablet:10 mg;syrup:5 mg/5ml", False, 10, 35),
    F("cetirizine", "سيتريزين", "", "hay-fever", "zyrtec jamjoom", "tablet:10 mg;drops:10 mg/ml", False, 9, 30),
    F("fexofenadine", "فيكسوفينادين", "", "hay-fever", "telfast tabuk", "tablet:120 mg,180 mg", False, 18, 55),
    F("desloratadine", "ديسلوراتادين", "", "antihistamines", "aerius", "tablet:5 mg;syrup:2.5 mg/5ml", False, 20, 60),
    F("xylometazoline", "زايلوميتازولين", "", "nasal-congestion", "otrivin", "nasal_spray:0.05 %,0.1 %;drops:0.05 %",
      False, 11, 26),
    F("pseudoephedrine and triprolidine", "سودوإيفيدرين وتريبروليدين", "", "nasal-congestion", "actifed",
      "tablet:60 mg;syrup:30 mg/5ml", False, 14, 32),
    F("amylmetacresol", "أميل ميتاكريسول", "", "sore-throat", "strepsils", "lozenge:0.6 mg", False, 12, 28),
    F("menthol", "منثول", "", "cough", "vicks", "ointment:4.8 %", False, 10, 30),
    F("ivy leaf extract", "خلاصة أوراق اللبلاب", "hedera helix|هيديرا هيليكس", "cough", "prospan",
      "syrup:35 mg/5ml;effervescent:65 mg", False, 25, 55),
    F("omeprazole", "أوميبرازول", "", "heartburn-acidity", "losec spimaco jamjoom", "capsule:20 mg,40 mg", False, 15, 60),
    F("esomeprazole", "إيسوميبرازول", "", "heartburn-acidity", "nexium", "tablet:20 mg,40 mg", True, 45, 120),
    F("sodium alginate", "ألجينات الصوديوم", "", "heartburn-acidity", "gaviscon",
      "chewable:250 mg,500 mg;suspension:500 mg/5ml", False, 14, 40),
    F("loperamide", "لوبيراميد", "", "diarrhoea", "imodium", "capsule:2 mg", False, 12, 26),
    F("bisacodyl", "بيساكوديل", "", "constipation", "dulcolax", "tablet:5 mg;suppository:10 mg", False, 10, 25),
    F("hyoscine butylbromide", "بيوتيل بروميد الهيوسين", "", "stomach-cramps", "buscopan", "tablet:10 mg",
      False, 12, 30),
    F("vitamin D3", "فيتامين د3", "cholecalciferol|كوليكالسيفيرول", "vitamin-d",
      "solgar jamieson vitabiotics natures-bounty", "tablet:1000 IU,5000 IU;softgel:1000 IU,50000 IU;drops:400 IU",
      False, 25, 90),
    F("multivitamin", "فيتامينات متعددة", "multivitamins and minerals|فيتامينات ومعادن متعددة", "multivitamins",
      "centrum supradyn vitabiotics", "tablet:;effervescent:;capsule:", False, 40, 140),
    F("omega-3", "أوميغا 3", "fish oil|زيت السمك", "omega-3", "seven-seas solgar jamieson natures-bounty",
      "softgel:1000 mg,1200 mg", False, 35, 120),
    F("vitamin C", "فيتامين سي", "ascorbic acid|حمض الأسكوربيك", "vitamin-c-immunity", "redoxon jamieson solgar",
      "effervescent:1000 mg;tablet:500 mg,1000 mg;chewable:500 mg", False, 15, 60),
    F("zinc", "زنك", "zinc gluconate|جلوكونات الزنك", "minerals", "solgar jamieson", "tablet:15 mg,50 mg", False, 25, 70),
    F("iron", "حديد", "ferrous fumarate|فومارات الحديدوز", "minerals", "feroglobin", "capsule:17 mg;syrup:",
      False, 30, 75),
    F("glycerin", "جلسرين", "", "moisturisers", "cetaphil cerave eucerin", "cream:;lotion:", False, 35, 130),
    F("ceramides", "سيراميد", "", "skin-repair", "cerave", "cream:;lotion:", False, 55, 150),
    F("urea", "يوريا", "", "moisturisers", "eucerin", "cream:5 %,10 %;lotion:10 %", False, 45, 120),
    F("dexpanthenol", "ديكسبانثينول", "provitamin B5|بروفيتامين ب5", "skin-repair", "bepanthen",
      "cream:5 %;ointment:5 %", False, 20, 60),
    F("zinc oxide", "أكسيد الزنك", "", "nappy-rash", "sudocrem bepanthen", "cream:15.25 %", False, 18, 55),
    F("simeticone", "سيميثيكون", "simethicone|سيميثيكون", "baby-colic", "infacol", "drops:40 mg/ml", False, 18, 35),
    F("potassium nitrate", "نترات البوتاسيوم", "", "toothpaste", "sensodyne", "toothpaste:5 %", False, 14, 35),
    F("sodium bicarbonate", "بيكربونات الصوديوم", "", "toothpaste", "parodontax", "toothpaste:67 %", False, 14, 32),
    F("essential oils", "الزيوت العطرية", "eucalyptol and thymol|أوكاليبتول وثيمول", "mouthwash", "listerine",
      "mouthwash:", False, 15, 45),
    F("chlorhexidine", "كلورهيكسيدين", "", "mouthwash", "parodontax", "mouthwash:0.2 %", False, 18, 40),
    F("povidone-iodine", "بوفيدون اليود", "", "antiseptics", "betadine", "solution:10 %;ointment:10 %", False, 12, 38),
    F("chloroxylenol", "كلوروكسيلينول", "", "antiseptics", "dettol", "solution:4.8 %", False, 10, 45),
    F("fusidic acid", "حمض الفيوسيديك", "", "wound-care", "fucidin", "cream:2 %;ointment:2 %", True, 20, 45),
    F("metformin", "ميتفورمين", "metformin hydrochloride|هيدروكلوريد الميتفورمين", "diabetes-medicines",
      "glucophage spimaco tabuk", "tablet:500 mg,850 mg,1000 mg", True, 8, 35),
    F("glimepiride", "جليميبيريد", "", "diabetes-medicines", "amaryl jamjoom", "tablet:1 mg,2 mg,4 mg", True, 20, 70),
    F("dextrose", "دكستروز", "glucose|جلوكوز", "low-sugar", "dextro-energy", "chewable:3 g", False, 5, 15),
    F("amoxicillin", "أموكسيسيلين", "", "antibiotics", "amoxil spimaco jamjoom",
      "capsule:250 mg,500 mg;suspension:250 mg/5ml", True, 10, 35),
    F("amoxicillin and clavulanic acid", "أموكسيسيلين وحمض الكلافولانيك", "co-amoxiclav|كو-أموكسيكلاف",
      "antibiotics", "augmentin hikma", "tablet:625 mg,1 g;suspension:457 mg/5ml", True, 25, 75),
    F("azithromycin", "أزيثرومايسين", "", "antibiotics", "zithromax tabuk", "tablet:250 mg,500 mg;suspension:200 mg/5ml",
      True, 25, 70),
    F("amlodipine", "أملوديبين", "amlodipine besilate|بيسيلات الأملوديبين", "blood-pressure", "norvasc jamjoom",
      "tablet:5 mg,10 mg", True, 20, 75),
    F("atorvastatin", "أتورفاستاتين", "", "cholesterol", "lipitor spimaco", "tablet:10 mg,20 mg,40 mg", True, 30, 110),
    F("rosuvastatin", "روسوفاستاتين", "", "cholesterol", "crestor tabuk", "tablet:10 mg,20 mg", True, 40, 130),
]

# (slug, English, Arabic): pharmacy chains that sell in the marketplace.
SELLERS = [
    ("nahdi", "Nahdi Pharmacy", "صيدليات النهدي"), ("al-dawaa", "Al-Dawaa Pharmacies", "صيدليات الدواء"),
    ("whites", "Whites Pharmacy", "صيدليات وايتس"), ("orange", "Orange Pharmacy", "صيدلية أورانج"),
    ("united-pharmacy", "United Pharmacy", "الصيدلية المتحدة"), ("kunooz", "Kunooz Pharmacy", "صيدليات كنوز"),
    ("boots", "Boots", "بوتس"), ("life-pharmacy", "Life Pharmacy", "لايف فارمسي"),
    ("aster", "Aster Pharmacy", "صيدلية أستر"), ("tadawi", "Tadawi Pharmacy", "صيدلية تداوي"),
    ("lemon", "Lemon Pharmacy", "صيدلية ليمون"), ("supercare", "Supercare Pharmacy", "صيدلية سوبركير"),
]

ADVICE = [
    ("Read the enclosed leaflet before use.", "اقرأ النشرة المرفقة قبل الاستعمال."),
    ("Keep out of the reach of children.", "يحفظ بعيدا عن متناول الأطفال."),
    ("Store below 25°C in a dry place.", "يحفظ في مكان جاف بدرجة حرارة أقل من 25 مئوية."),
    ("Do not exceed the stated dose.", "لا تتجاوز الجرعة الموصى بها."),
    ("Consult your pharmacist if symptoms persist.", "استشر الصيدلي إذا استمرت الأعراض."),
]
RX_ADVICE = ("Dispensed only against a valid prescription.", "يصرف فقط بوصفة طبية سارية.")

# fmt: on
_STRENGTH = re.compile(r"^([\d.]+)\s*(.+)$")


def strength_labels(strength: str) -> tuple[str, str]:
    """'120 mg/5ml' -> ('120 mg/5 ml', '120 ملغ/5 مل'); '' -> ('', '')."""
    match = _STRENGTH.match(strength)
    if not match:
        return strength, strength
    value, unit = match.groups()
    return f"{value} {UNITS_EN.get(unit, unit)}", f"{value} {UNITS_AR.get(unit, unit)}"


def slug_en(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def slug_ar(text: str) -> str:
    """Arabic words joined with '-': no whitespace, '/', '?', '#' or '%' (the schema's CHECK)."""
    return re.sub(r"[\s/?#%&'(),.]+", "-", text).strip("-")
