"""One module per stage kind (acquisition, activation, referral, revenue, satisfaction)."""
