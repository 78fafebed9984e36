"""marshmallow schemas: input in, validated plain data (str, Decimal, date, lists, dicts) out.

Error messages are Chinese and keyed by field path; see forms.base for the shared behaviour.
"""
