"""Official letters (公文): types, document numbers, rendering (GB/T 9704)."""
