"""HTML form fields -> the dicts the services' schemas validate (which stay the one judge of input).

A form sends strings; lists arrive as repeated fields (checkboxes, multiple selects). Empty
optional fields are left out, so the schema's own defaults apply.
"""


def text(form, name):
    value = form.get(name, "")
    return value.strip() if name not in ("password", "body", "text", "bio") else value


def pick(form, names=(), lists=(), integers=(), checkboxes=()):
    data = {}
    for name in names:
        if form.get(name, "").strip():
            data[name] = text(form, name)
    for name in lists:
        data[name] = [value for value in form.getlist(name) if value]
    for name in integers:
        raw = form.get(name, "").strip()
        if raw:
            # A number the schema cannot read is passed as text, so the schema names the field.
            data[name] = int(raw) if raw.lstrip("-").isdigit() and len(raw) < 10 else raw
    for name in checkboxes:
        data[name] = form.get(name) in ("on", "true", "1", "yes")
    return data
