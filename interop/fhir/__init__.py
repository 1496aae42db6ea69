"""The FHIR R4 interface (`/fhir/r4/`) after the HL7 SDOH Clinical Care IG: views over the
domain services, scopes and consent policy. See README.md, "FHIR R4"."""
