"""Pages that gather several domains, composed above them."""
