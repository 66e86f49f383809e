"""Reading every stage's results and gating on them."""
