"""A contract's ``billing`` block (submitter, receiver, provider) for tests that write
claim files; the NPI passes the Luhn check."""

BILLING = {
    "submitter_id": "ACME01",
    "submitter_name": "Acme Case Management",
    "contact_name": "Billing Office",
    "contact_phone": "5555550100",
    "receiver_id": "COUNTYBH",
    "receiver_name": "County Behavioral Health",
    "provider_npi": "1234567893",
    "provider_name": "Acme Case Management",
    "address": "100 Main St",
    "city": "Los Angeles",
    "state": "CA",
    "zip": "90012",
    "tax_id": "123456789",
    "payer_code": "COUNTYBH",
    "default_diagnosis": "Z59.00",
}
