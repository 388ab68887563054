def handler(event, context):
    return {"version": 2}
