# Tiny test guests (freestanding, no SSE): see guest/README.md.
GUEST_CLEAN	:=
guests:
.PHONY: guests
