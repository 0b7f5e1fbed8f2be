"""Ledgers (台账) and periodic reports (日报、周报、月报) of dropout control."""
