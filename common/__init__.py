"""The ground floor every part stands on: the root error type, the registry calendar, the QR image
codec and the small helpers each part's commands share. It imports no other skillpass package."""
