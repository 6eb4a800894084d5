"""The institution's side: roster import and validation, the registry client, the issuance run with its
crash-safe journal, QR images and PDF certificates, the manifest, and the ``issue``/``revoke``/``suspend``/
``reinstate``/key-rotation commands (``issuer.cli``)."""
