"""Fund projections: a cohort-component projection of the insured population and the balance of the
social-insurance funds year by year (``safetynet project``; docs/funds.md, ADR 0021)."""
