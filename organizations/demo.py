"""The demo network: who is in it and how to sign in as them (README lists the same)."""

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
