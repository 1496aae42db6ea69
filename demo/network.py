"""The demo network: who is in it and how to sign in as them (README lists the same).

Data only; `manage.py seed_demo` loads it through the services."""

from __future__ import annotations

DEMO_PASSWORD = "linkage-demo-2026"
# Demo admins' authenticator key (base32), so a demo needs no phone: `manage.py demo_totp`.
DEMO_TOTP_KEY_HEX = b"linkage-demo-totp-k1".hex()

NETWORK = "Riverbend Community Health Network"

# (name, kind, sub_kind)
ORGANIZATIONS = [
    ("Riverbend Health Collaborative", "backbone", ""),
    ("St. Brigid Health System", "hco", "hospital"),
    ("Eastside Community Clinic", "hco", "fqhc"),
    ("Riverbend Food Bank", "cbo", "nonprofit"),
    ("Harbor Housing Alliance", "cbo", "nonprofit"),
    ("Riverbend County Health Department", "cbo", "health_department"),
    ("RideWell Community Transportation", "cbo", "nonprofit"),
]

# (email, first, last, [(organization, role)])
USERS = [
    (
        "backbone.admin@demo.linkage.test",
        "Beatriz",
        "Alvarez",
        [("Riverbend Health Collaborative", "org_admin")],
    ),
    (
        "hub.navigator@demo.linkage.test",
        "Hank",
        "Osei",
        [("Riverbend Health Collaborative", "navigator")],
    ),
    (
        "clinic.admin@demo.linkage.test",
        "Carmen",
        "Diaz",
        [("Eastside Community Clinic", "org_admin")],
    ),
    (
        "clinic.coordinator@demo.linkage.test",
        "Chris",
        "Nguyen",
        [("Eastside Community Clinic", "navigator")],
    ),
    ("clinic.staff@demo.linkage.test", "Cora", "Lind", [("Eastside Community Clinic", "staff")]),
    (
        "hospital.coordinator@demo.linkage.test",
        "Hope",
        "Morales",
        [("St. Brigid Health System", "navigator")],
    ),
    ("foodbank.admin@demo.linkage.test", "Frank", "Baker", [("Riverbend Food Bank", "org_admin")]),
    ("foodbank.staff@demo.linkage.test", "Fatima", "Hassan", [("Riverbend Food Bank", "staff")]),
    (
        "housing.navigator@demo.linkage.test",
        "Hector",
        "Reyes",
        [("Harbor Housing Alliance", "navigator")],
    ),
    (
        "health.dept.chw@demo.linkage.test",
        "Dana",
        "Kim",
        [("Riverbend County Health Department", "staff")],
    ),
    (
        "rides.staff@demo.linkage.test",
        "Rosa",
        "Patel",
        [("RideWell Community Transportation", "staff")],
    ),
    (
        "shared.navigator@demo.linkage.test",
        "Sam",
        "Okafor",
        [("Riverbend Food Bank", "navigator"), ("Harbor Housing Alliance", "navigator")],
    ),
]

# (name, [organizations], description)
PARTNERSHIPS = [
    (
        "Eastside Clinic + Food Bank: Food as Medicine",
        ["Eastside Community Clinic", "Riverbend Food Bank"],
        "Medically tailored food boxes for clinic patients screening positive for food insecurity.",
    ),
    (
        "Eastside Clinic + Harbor Housing",
        ["Eastside Community Clinic", "Harbor Housing Alliance"],
        "Housing navigation for patients at risk of losing housing.",
    ),
    (
        "St. Brigid + County Health Department: Asthma and Diabetes",
        ["St. Brigid Health System", "Riverbend County Health Department"],
        "Asthma home visits and diabetes self-management education.",
    ),
    (
        "St. Brigid + RideWell",
        ["St. Brigid Health System", "RideWell Community Transportation"],
        "Rides to appointments for patients without transportation.",
    ),
    (
        "St. Brigid + Food Bank",
        ["St. Brigid Health System", "Riverbend Food Bank"],
        "Food pantry referrals at discharge.",
    ),
    (
        "Eastside Clinic + RideWell",
        ["Eastside Community Clinic", "RideWell Community Transportation"],
        "Rides to clinic and pharmacy visits.",
    ),
]

# The directory: each CBO's programs. Riverbend's ZIP codes are 606xx; its county is
# Riverbend. One program is full (waitlist) so referrers see what a full program looks like.
PROGRAMS = [
    {
        "organization": "Riverbend Food Bank",
        "name": "Community Pantry",
        "description": "Free groceries once a week: produce, dairy, bread and shelf-stable food.",
        "categories": ["food-insecurity"],
        "eligibility": "Riverbend County residents. No income documents needed.",
        "zip_codes": ["60601", "60602", "60603", "60604", "60605"],
        "counties": ["Riverbend"],
        "languages": [("en", "English"), ("es", "Spanish")],
        "hours": "Tue and Thu 10:00-18:00; Sat 9:00-12:00",
        "fees": "Free",
        "intake": "Walk in with any ID, or send a referral and we call within 2 business days.",
        "phone": "(555) 010-2001",
        "email": "pantry@riverbendfoodbank.example",
    },
    {
        "organization": "Riverbend Food Bank",
        "name": "Medically Tailored Food Boxes",
        "description": "Two weeks of meals a month planned for diabetes, heart or kidney diets.",
        "categories": ["food-insecurity"],
        "eligibility": "Referred by a clinic partner, with a diet-related condition.",
        "zip_codes": ["60601", "60602", "60603", "60604", "60605", "60606", "60607"],
        "languages": [("en", "English"), ("es", "Spanish"), ("vi", "Vietnamese")],
        "hours": "Deliveries Mon-Fri",
        "fees": "Free to the patient; billed to the partnership.",
        "intake": "Clinic referral only. A dietitian calls the patient to set up deliveries.",
        "phone": "(555) 010-2002",
        "capacity": 60,
    },
    {
        "organization": "Riverbend Food Bank",
        "name": "SNAP Application Help",
        "description": "Help applying for SNAP and WIC, by phone or in person.",
        "categories": ["food-insecurity", "financial-insecurity"],
        "counties": ["Riverbend"],
        "languages": [("en", "English"), ("es", "Spanish")],
        "hours": "Mon-Fri 9:00-17:00",
        "fees": "Free",
        "intake": "Call to book a 30-minute appointment.",
        "phone": "(555) 010-2003",
    },
    {
        "organization": "Harbor Housing Alliance",
        "name": "Rapid Rehousing",
        "description": "Case management and up to 12 months of rent help to move out of shelter.",
        "categories": ["homelessness", "housing-instability"],
        "eligibility": "Households experiencing homelessness in Riverbend County.",
        "counties": ["Riverbend"],
        "languages": [("en", "English"), ("es", "Spanish")],
        "hours": "Mon-Fri 8:30-16:30",
        "fees": "Free",
        "intake": "Referral, then a housing assessment within a week.",
        "phone": "(555) 010-3001",
        "capacity": 25,
        # Full: new referrals wait for a place.
        "manual_waitlist": True,
    },
    {
        "organization": "Harbor Housing Alliance",
        "name": "Eviction Prevention Fund",
        "description": "One-time help with back rent or utility bills to keep people housed.",
        "categories": ["housing-instability", "utility-insecurity", "financial-insecurity"],
        "eligibility": "Riverbend County renters with an eviction notice or shut-off notice.",
        "zip_codes": ["60601", "60602", "60603", "60604", "60605", "60606", "60607", "60608"],
        "languages": [("en", "English"), ("es", "Spanish"), ("ar", "Arabic")],
        "hours": "Mon-Fri 9:00-17:00",
        "fees": "Free",
        "intake": "Bring the notice and a lease; decisions within 5 business days.",
        "phone": "(555) 010-3002",
    },
    {
        "organization": "Riverbend County Health Department",
        "name": "Asthma Home Visits",
        "description": "A community health worker visits the home to find and fix asthma triggers.",
        "categories": ["inadequate-housing"],
        "eligibility": "Children and adults with asthma living in Riverbend County.",
        "counties": ["Riverbend"],
        "languages": [("en", "English"), ("es", "Spanish")],
        "hours": "Visits Mon-Sat",
        "fees": "Free",
        "intake": "Referral from a clinician; a CHW calls within 3 business days.",
        "phone": "(555) 010-4001",
    },
    {
        "organization": "Riverbend County Health Department",
        "name": "Health Insurance Enrollment",
        "description": "Certified navigators help people enroll in Medicaid or a marketplace plan.",
        "categories": ["health-insurance-coverage-status", "medical-cost-burden"],
        "counties": ["Riverbend"],
        "languages": [("en", "English"), ("es", "Spanish"), ("zh", "Chinese")],
        "hours": "Mon-Fri 8:00-16:30",
        "fees": "Free",
        "intake": "Walk in or call for an appointment.",
        "phone": "(555) 010-4002",
    },
    {
        "organization": "RideWell Community Transportation",
        "name": "Rides to Medical Appointments",
        "description": "Door-to-door rides to clinic, pharmacy and hospital appointments.",
        "categories": ["transportation-insecurity"],
        "eligibility": "Riverbend County residents without a car; wheelchair vans available.",
        "zip_codes": ["60601", "60602", "60603", "60604", "60605", "60606", "60607", "60608"],
        "languages": [("en", "English"), ("es", "Spanish")],
        "hours": "Mon-Sat 6:00-20:00",
        "fees": "Free with a partner referral; otherwise $2 a ride.",
        "intake": "Book at least 2 business days ahead.",
        "phone": "(555) 010-5001",
        "capacity": 120,
    },
    # Referrals go both ways: the food bank refers clients with diet-related illness and no
    # regular doctor to the clinic (community -> clinic).
    {
        "organization": "Eastside Community Clinic",
        "name": "Nutrition and Diabetes Prevention Visits",
        "description": "A first visit with a clinician and a dietitian for people at risk of "
        "diabetes or heart disease who have no regular doctor.",
        "categories": ["food-insecurity", "health-insurance-coverage-status"],
        "eligibility": "Adults 18 and over; insurance not required (sliding fee).",
        "counties": ["Riverbend"],
        "languages": [("en", "English"), ("es", "Spanish")],
        "hours": "Mon-Fri 8:00-17:00",
        "fees": "Sliding fee; no one is turned away.",
        "intake": "Send a referral: the clinic calls within 2 business days to book.",
        "phone": "(555) 010-6001",
        "minimum_age": 18,
    },
    # The backbone as coordination platform (the IG's indirect referral): a clinic that
    # does not know which program fits sends to the hub, and the backbone's navigators
    # route it on to a program ("assign to a program" on the referral).
    {
        "organization": "Riverbend Health Collaborative",
        "name": "Care coordination hub",
        "description": "Not sure where to refer? Send it here: the network's navigators find "
        "the right program, route the referral to it and keep you posted until it closes.",
        "categories": [
            "food-insecurity",
            "housing-instability",
            "homelessness",
            "inadequate-housing",
            "transportation-insecurity",
            "financial-insecurity",
            "utility-insecurity",
            "health-insurance-coverage-status",
            "sdoh-category-unspecified",
        ],
        "counties": ["Riverbend"],
        "languages": [("en", "English"), ("es", "Spanish")],
        "hours": "Mon-Fri 8:00-18:00",
        "fees": "Free",
        "intake": "Send a referral: a hub navigator routes it within 1 business day.",
        "phone": "(555) 010-1000",
        "email": "hub@riverbendcollaborative.example",
    },
]

# A referral and screening history for the demo network's measures: made through the real
# services, then dated back over the past months (the services stamp "now").
HISTORY_EMAIL_DOMAIN = "history.demo.linkage.test"
HISTORY_CLIENTS = 180
HISTORY_DAYS = 200
# AHC HRSN answers: everything answered, nothing positive; and the positive variants.
AHC_NEGATIVE = {
    "124296": ("LA31993-1",),
    "123820": ("LA9-3",),
    "123821": ("LA28398-8",),
    "123822": ("LA28398-8",),
    "123823": ("LA32-8",),
    "123824": ("LA32-8",),
    "123825": ("LA6270-8",),
    "123826": ("LA6270-8",),
    "123827": ("LA6270-8",),
    "123828": ("LA6270-8",),
}
AHC_POSITIVE = {
    "food": {"123821": ("LA28397-0",), "123822": ("LA28397-0",)},
    "housing": {"124296": ("LA31994-9",)},
    "transport": {"123823": ("LA33-6",)},
}
# need -> (program, receiving user's email)
HISTORY_PROGRAMS = {
    "food": ("Community Pantry", "foodbank.staff@demo.linkage.test", "food-insecurity"),
    "housing": (
        "Eviction Prevention Fund",
        "housing.navigator@demo.linkage.test",
        "housing-instability",
    ),
    "transport": (
        "Rides to Medical Appointments",
        "rides.staff@demo.linkage.test",
        "transportation-insecurity",
    ),
}
HISTORY_CLINICS = [
    ("Eastside Community Clinic", "clinic.coordinator@demo.linkage.test"),
    ("St. Brigid Health System", "hospital.coordinator@demo.linkage.test"),
]
# What happens to the n-th referral (cycled): the moves after sending, and an outcome.
HISTORY_PATHS = [
    ("complete", "need-met"),
    ("complete", "need-met"),
    ("complete", "need-partly-met"),
    ("complete", "need-met"),
    ("reject", ""),
    ("fail", ""),
    ("complete", "need-not-met"),
    ("cancel", ""),
    ("open", ""),
    ("accept", ""),
    ("complete", "need-met"),
    ("complete", "unable-to-contact"),
]

# Community -> clinic: food bank clients referred to the clinic's program (their own
# records, releases naming the clinic), each at a different stage.
COMMUNITY_EMAIL_DOMAIN = "community.demo.linkage.test"
COMMUNITY_REFERRALS = [
    # (given name, family name, age, the clinic's moves after the referral)
    ("Imani", "Okafor", 52, ["accept", "complete"]),
    ("Luis", "Paredes", 61, ["accept"]),
    ("Grace", "Whitfield", 44, []),
    ("Tomas", "Jaramillo", 38, ["accept", "complete"]),
]
