"""The institution console: ``skillpass issuer console``, a local web app on the institution's own
machine, where its signing key lives ("谁评价、谁负责、谁发证": the registry never holds that key).

A clerk uploads a roster and sees every problem as a table, fixes the file and uploads it again,
submits it, follows the review, signs with the key passphrase (progress bar), downloads a ZIP of the
PDFs and the combined PDF for printing, lists everything the institution issued, and revokes or
suspends a certificate after a confirmation step. ``app.create_app`` builds it, ``command`` starts it; ``guard`` says who may use
it, ``pages`` what it shows, ``workspace`` where its files go and ``jobs`` how signing runs.
"""
