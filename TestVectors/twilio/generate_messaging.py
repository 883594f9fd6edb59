#!/usr/bin/env python3
"""Generate messaging.json: Programmable Messaging golden vectors from the official twilio Python SDK.

Three parts, all made by the SDK itself:

- "rest": each case makes one SDK call through twilio.rest.Client (messages.create,
  messages(sid).fetch, messages.list) with the recording HTTP client of generate_rest.py, so no
  network is used. Every request the SDK made is kept as it would go on the wire (built with
  requests exactly as generate_rest.py does), with the canned response it was given and what the
  SDK made of it (MessageInstance fields, or TwilioRestException). A list case can make several
  requests: the SDK follows next_page_uri.
- "webhooks": form POSTs Twilio sends to an app (an inbound SMS, an inbound WhatsApp message with
  media, a WhatsApp button reply and location, status callbacks), as the raw form body, the decoded
  fields, and the X-Twilio-Signature twilio.request_validator.RequestValidator computes for them
  (checked with its validate()).
- "twiml": <Response><Message> documents rendered by twilio.twiml.messaging_response.

Usage:
    pip install twilio==9.13.0
    python3 TestVectors/twilio/generate_messaging.py           # rewrite messaging.json
    python3 TestVectors/twilio/generate_messaging.py --check   # compare with the committed file
"""

import base64
import datetime
import json
import os
import sys
from urllib.parse import parse_qsl, urlencode, urlsplit

sys.dont_write_bytecode = True  # keep __pycache__ out of the vectors folder
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import HERE, dump_json, sdk_metadata, write_or_check  # noqa: E402
from generate_rest import (  # noqa: E402
    ACCOUNT_SID, API_KEY_CREDENTIALS, AUTH_TOKEN, AUTH_TOKEN_CREDENTIALS, USER_AGENT_RE,
    WRONG_CREDENTIALS, RecordingHttpClient, flatten_form, own_form_encode, wire_request)

import requests  # noqa: E402
from twilio.base.exceptions import TwilioRestException  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402
from twilio.rest import Client  # noqa: E402
from twilio.twiml.messaging_response import MessagingResponse  # noqa: E402

CUSTOMER = "+14155550199"  # the person texting with the agent
TWILIO_NUMBER = "+14155550100"  # the agent's Twilio number
WA_CUSTOMER = "whatsapp:" + CUSTOMER
WA_SENDER = "whatsapp:" + TWILIO_NUMBER
SERVICE_SID = "MG0123456789abcdef0123456789abcdef"
STATUS_URL = "https://agent.example.com/twilio/messages/status"
INBOUND_URL = "https://agent.example.com/twilio/messages/inbound"
MEDIA_1 = "https://media.example.com/cat.jpg"
MEDIA_2 = "https://media.example.com/menu.pdf?v=2&lang=en"
MISSING_SID = "SM00000000000000000000000000000000"
SIDS = {
    "from": "SM11111111111111111111111111111111",
    "service": "SM22222222222222222222222222222222",
    "media": "MM33333333333333333333333333333333",
    "whatsapp": "SM44444444444444444444444444444444",
    "template": "SM55555555555555555555555555555555",
    "inbound": "SM66666666666666666666666666666666",
    "older": "SM77777777777777777777777777777777",
}
MESSAGES_PATH = "/2010-04-01/Accounts/%s/Messages" % ACCOUNT_SID


# --- canned Message resources (twilio-conversations.md §3.3) ------------------------------


def message_resource(sid, status, **overrides):
    """A Message resource as Twilio returns it: keys in the order of the API's example; counts
    are strings; dates are RFC 2822."""
    body = {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": "Your table for 2 is booked for 7pm.",
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
        "date_sent": None,
        "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": TWILIO_NUMBER,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "messaging_service_sid": None,
        "sid": sid,
        "status": status,
        "subresource_uris": {"media": "%s/%s/Media.json" % (MESSAGES_PATH, sid)},
        "to": CUSTOMER,
        "uri": "%s/%s.json" % (MESSAGES_PATH, sid),
    }
    for key, value in overrides.items():
        assert key in body, key
        body[key] = value
    return body


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def error_body(code, message, status):
    return compact({"code": code, "message": message,
                    "more_info": "https://www.twilio.com/docs/errors/%d" % code, "status": status})


def page_body(messages, page, page_size, query, next_token=None, previous_token=None):
    """A v2010 list page: top-level, relative *_page_uri (twilio-conversations.md §3.3)."""
    base = MESSAGES_PATH + ".json?" + query
    return compact({
        "end": page * page_size + len(messages) - 1,
        "first_page_uri": "%s&PageSize=%d&Page=0" % (base, page_size),
        "messages": messages,
        "next_page_uri": ("%s&PageSize=%d&Page=%d&PageToken=%s" % (base, page_size, page + 1, next_token))
        if next_token else None,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": ("%s&PageSize=%d&Page=%d&PageToken=%s" % (base, page_size, page - 1, previous_token))
        if previous_token else None,
        "start": page * page_size,
        "uri": "%s&PageSize=%d&Page=%d" % (base, page_size, page),
    })


MESSAGE_ATTRIBUTES = [
    "body", "num_segments", "direction", "from", "to", "date_updated", "price", "error_message",
    "uri", "account_sid", "num_media", "status", "messaging_service_sid", "sid", "date_sent",
    "date_created", "error_code", "price_unit", "api_version", "subresource_uris",
]


def parsed_message(instance):
    out = {}
    for name in MESSAGE_ATTRIBUTES:
        value = getattr(instance, "from_" if name == "from" else name)
        if isinstance(value, datetime.datetime):
            value = value.isoformat()
        out[name] = value
    return out


# --- REST cases ---------------------------------------------------------------------------
# Each spec: name, description, credentials, call (operation create | fetch | list; the SDK's
# keyword arguments in snake_case, "from" for from_), responses (status, body text) in order.

SENT_FROM = message_resource(SIDS["from"], "queued")
SENT_SERVICE = message_resource(
    SIDS["service"], "accepted", **{"from": None, "messaging_service_sid": SERVICE_SID,
                                    "num_segments": "0"})
SENT_MEDIA = message_resource(
    SIDS["media"], "queued", body="Here is the menu & a photo.", num_media="2",
    subresource_uris={"media": "%s/%s/Media.json" % (MESSAGES_PATH, SIDS["media"])})
SENT_WHATSAPP = message_resource(
    SIDS["whatsapp"], "queued", body="¡Hola! Your order #42 ships today 🚚",
    **{"from": WA_SENDER, "to": WA_CUSTOMER})
SENT_TEMPLATE = message_resource(
    SIDS["template"], "queued", body="", **{"from": WA_SENDER, "to": WA_CUSTOMER})
FETCHED = message_resource(
    SIDS["from"], "undelivered", date_sent="Thu, 24 Aug 2023 05:01:46 +0000",
    date_updated="Thu, 24 Aug 2023 05:01:50 +0000", error_code=30003,
    error_message="Unreachable destination handset", price="-0.00790")
INBOUND = message_resource(
    SIDS["inbound"], "received", body="Can I move it to 8?", direction="inbound",
    date_sent="Thu, 24 Aug 2023 05:03:10 +0000", date_updated="Thu, 24 Aug 2023 05:03:10 +0000",
    date_created="Thu, 24 Aug 2023 05:03:10 +0000", price="-0.00790",
    **{"from": CUSTOMER, "to": TWILIO_NUMBER})
OLDER = message_resource(
    SIDS["older"], "delivered", body="Hi! Do you have a table tonight?", direction="inbound",
    date_sent="Thu, 24 Aug 2023 04:58:02 +0000", date_updated="Thu, 24 Aug 2023 04:58:02 +0000",
    date_created="Thu, 24 Aug 2023 04:58:02 +0000", **{"from": CUSTOMER, "to": TWILIO_NUMBER})

LIST_QUERY = urlencode([("To", TWILIO_NUMBER), ("From", CUSTOMER)])

SPECS = [
    # --- success ----------------------------------------------------------------------------
    dict(name="send_from_number",
         description="Send an SMS from a Twilio number: To, From and Body. Twilio answers 201 "
         "with the queued message.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": CUSTOMER, "from": TWILIO_NUMBER,
               "body": SENT_FROM["body"]},
         responses=[(201, compact(SENT_FROM))]),
    dict(name="send_messaging_service",
         description="Send through a Messaging Service (MessagingServiceSid instead of From). "
         "Twilio answers 201 with status accepted, from null and num_segments \"0\" until a "
         "sender is picked. API key credentials.",
         credentials=API_KEY_CREDENTIALS,
         call={"operation": "create", "to": CUSTOMER, "messaging_service_sid": SERVICE_SID,
               "body": SENT_SERVICE["body"]},
         responses=[(201, compact(SENT_SERVICE))]),
    dict(name="send_media_status_callback",
         description="An MMS: Body, two MediaUrl fields (a repeated key, in order; the second "
         "URL has its own query string) and a StatusCallback.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": CUSTOMER, "from": TWILIO_NUMBER,
               "body": SENT_MEDIA["body"], "media_url": [MEDIA_1, MEDIA_2],
               "status_callback": STATUS_URL},
         responses=[(201, compact(SENT_MEDIA))]),
    dict(name="send_whatsapp",
         description="A WhatsApp message: To and From are whatsapp:+E164 (the ':' is sent as "
         "%3A, the '+' as %2B); non-ASCII body and an emoji, UTF-8 percent-encoded.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": WA_CUSTOMER, "from": WA_SENDER,
               "body": SENT_WHATSAPP["body"], "status_callback": STATUS_URL},
         responses=[(201, compact(SENT_WHATSAPP))]),
    dict(name="send_whatsapp_template",
         description="A WhatsApp template outside the 24-hour window: ContentSid and "
         "ContentVariables (a JSON string), no Body.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": WA_CUSTOMER, "from": WA_SENDER,
               "content_sid": "HX0123456789abcdef0123456789abcdef",
               "content_variables": "{\"1\":\"12/1\",\"2\":\"3pm\"}"},
         responses=[(201, compact(SENT_TEMPLATE))]),
    dict(name="fetch_message",
         description="Fetch a message by sid: GET, no body. It was undelivered with error "
         "30003 (error_code is a JSON number).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "fetch", "sid": SIDS["from"]},
         responses=[(200, compact(FETCHED))]),
    dict(name="list_filtered_two_pages",
         description="List messages sent to the Twilio number by the customer, 1 per page: GET "
         "with To, From and PageSize in the query. The first page has a relative next_page_uri "
         "(with PageToken), which the SDK GETs on the same host verbatim; the second has none.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "list", "to": TWILIO_NUMBER, "from": CUSTOMER, "page_size": 1},
         responses=[(200, page_body([INBOUND], 0, 1, LIST_QUERY, next_token="PASM6666")),
                    (200, page_body([OLDER], 1, 1, LIST_QUERY, previous_token="PBSM7777"))]),
    dict(name="list_empty",
         description="List with no filters and the default page size: an empty page.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "list"},
         responses=[(200, compact({
             "end": 0, "first_page_uri": MESSAGES_PATH + ".json?PageSize=50&Page=0",
             "messages": [], "next_page_uri": None, "page": 0, "page_size": 50,
             "previous_page_uri": None, "start": 0,
             "uri": MESSAGES_PATH + ".json?PageSize=50&Page=0"}))]),
    # --- errors -----------------------------------------------------------------------------
    dict(name="error_21211_invalid_to",
         description="An invalid To: 400, code 21211.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": "+1555", "from": TWILIO_NUMBER, "body": "hi"},
         responses=[(400, error_body(21211, "Invalid 'To' Phone Number: +1555", 400))]),
    dict(name="error_21614_not_mobile",
         description="To is a landline: 400, code 21614.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": "+14155550111", "from": TWILIO_NUMBER, "body": "hi"},
         responses=[(400, error_body(
             21614, "'To' number is not a valid mobile number", 400))]),
    dict(name="error_21610_unsubscribed",
         description="The recipient replied STOP: 400, code 21610.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": CUSTOMER, "from": TWILIO_NUMBER, "body": "hi"},
         responses=[(400, error_body(
             21610, "Attempt to send to unsubscribed recipient", 400))]),
    dict(name="error_63016_whatsapp_window",
         description="A free-form WhatsApp message outside the 24-hour window: 400, code "
         "63016 (HTTP status illustrative: the reference lists it as callback/400).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": WA_CUSTOMER, "from": WA_SENDER, "body": "hi"},
         responses=[(400, error_body(
             63016, "Failed to send freeform message because you are outside the allowed "
             "window. If you are using WhatsApp, please use a Message Template.", 400))]),
    dict(name="error_20429_too_many_requests",
         description="Over the REST concurrency limit: 429, code 20429. The SDK does not retry.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": CUSTOMER, "from": TWILIO_NUMBER, "body": "hi"},
         responses=[(429, error_body(20429, "Too Many Requests", 429))]),
    dict(name="error_14107_send_rate",
         description="Over the sending rate limit: 429, code 14107.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": CUSTOMER, "from": TWILIO_NUMBER, "body": "hi"},
         responses=[(429, error_body(14107, "SMS send rate limit exceeded", 429))]),
    dict(name="error_20003_authenticate",
         description="A wrong auth token: 401, code 20003.",
         credentials=WRONG_CREDENTIALS,
         call={"operation": "create", "to": CUSTOMER, "from": TWILIO_NUMBER, "body": "hi"},
         responses=[(401, error_body(20003, "Authenticate", 401))]),
    dict(name="error_20404_fetch",
         description="Fetch a message sid that does not exist: 404, code 20404.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "fetch", "sid": MISSING_SID},
         responses=[(404, error_body(
             20404, "The requested resource %s/%s.json was not found" % (MESSAGES_PATH, MISSING_SID),
             404))]),
]


def run_sdk_call(client, call):
    kwargs = {("from_" if k == "from" else k): v for k, v in call.items()
              if k not in ("operation", "sid")}
    op = call["operation"]
    if op == "create":
        return client.messages.create(**kwargs)
    if op == "fetch":
        assert not kwargs
        return client.messages(call["sid"]).fetch()
    if op == "list":
        return client.messages.list(**kwargs)
    raise ValueError(op)


def wire(recorded, creds):
    prepared = wire_request(recorded)
    body = prepared.body
    if isinstance(body, bytes):
        body = body.decode("ascii")
    form = [list(p) for p in parse_qsl(body, keep_blank_values=True)] if body else []
    if form != [list(p) for p in flatten_form(recorded["data"])]:
        sys.exit("decoded body differs from the SDK's data")
    if body and own_form_encode(flatten_form(recorded["data"])) != body:
        sys.exit("own form encoding disagrees with requests")
    authorization = prepared.headers.get("Authorization")
    expected_auth = "Basic " + base64.b64encode(
        ("%s:%s" % (creds["username"], creds["password"])).encode("utf-8")).decode("ascii")
    if authorization != expected_auth:
        sys.exit("unexpected Authorization")
    if not USER_AGENT_RE.match(prepared.headers.get("User-Agent", "")):
        sys.exit("unexpected User-Agent")
    split = urlsplit(prepared.url)
    query = split.query or None
    if query and own_form_encode(parse_qsl(query, keep_blank_values=True)) != query:
        sys.exit("own form encoding disagrees with the query " + query)
    return {
        "method": prepared.method,
        "url": prepared.url,
        "path": split.path,
        "query": query,
        "path_and_query": split.path + ("?" + query if query else ""),
        "body": body,
        "form": form,
        "authorization": authorization,
        "content_type": prepared.headers.get("Content-Type"),
        "accept": prepared.headers.get("Accept"),
    }


def build_rest_case(spec):
    creds = spec["credentials"]
    http = RecordingHttpClient()
    http.responses.extend(spec["responses"])
    client = Client(creds["username"], creds["password"], creds["account_sid"],
                    http_client=http, environment={"VOICEPIPE_VECTORS": "1"})
    result = exception = None
    try:
        result = run_sdk_call(client, spec["call"])
    except TwilioRestException as e:
        exception = e
    if len(http.calls) != len(spec["responses"]) or http.responses:
        sys.exit("unexpected number of requests for " + spec["name"])
    case = {
        "name": spec["name"],
        "description": spec["description"],
        "credentials": creds,
        "call": spec["call"],
        "exchanges": [{"request": wire(recorded, creds),
                       "response": {"status": status, "body": text}}
                      for recorded, (status, text) in zip(http.calls, spec["responses"])],
    }
    if exception is not None:
        text = spec["responses"][-1][1]
        payload = json.loads(text)
        case["exception"] = {"class": type(exception).__name__, "status": exception.status,
                             "code": exception.code, "msg": exception.msg}
        case["twilio_error"] = {k: payload.get(k) for k in ("code", "message", "more_info", "status")}
    elif isinstance(result, list):
        case["result"] = {"class": "list", "messages": [parsed_message(m) for m in result]}
    else:
        case["result"] = {"class": type(result).__name__, "fields": parsed_message(result)}
    return case


# --- webhooks -----------------------------------------------------------------------------

WEBHOOK_TOKEN = AUTH_TOKEN

WEBHOOK_SPECS = [
    dict(name="inbound_sms",
         description="An inbound SMS to the agent's number (fields as Twilio's webhook-request "
         "guide lists them, in a typical order), posted to the number's messaging webhook.",
         kind="inbound", url=INBOUND_URL,
         params=[
             ("ToCountry", "US"), ("ToState", "CA"), ("SmsMessageSid", SIDS["inbound"]),
             ("NumMedia", "0"), ("ToCity", "SAN FRANCISCO"), ("FromZip", "94105"),
             ("SmsSid", SIDS["inbound"]), ("FromState", "CA"), ("SmsStatus", "received"),
             ("FromCity", "SAN FRANCISCO"), ("Body", "Can I move it to 8? Thanks :) & bye"),
             ("FromCountry", "US"), ("To", TWILIO_NUMBER),
             ("MessagingServiceSid", SERVICE_SID), ("ToZip", "94107"), ("NumSegments", "1"),
             ("MessageSid", SIDS["inbound"]), ("AccountSid", ACCOUNT_SID), ("From", CUSTOMER),
             ("ApiVersion", "2010-04-01")]),
    dict(name="inbound_whatsapp_media",
         description="An inbound WhatsApp message with two media items, the sender's profile "
         "name and WaId (digits, no '+'), posted to a URL with a query string.",
         kind="inbound", url=INBOUND_URL + "?channel=whatsapp&tenant=7",
         params=[
             ("MediaContentType0", "image/jpeg"), ("MediaContentType1", "application/pdf"),
             ("SmsMessageSid", "MM88888888888888888888888888888888"), ("NumMedia", "2"),
             ("ProfileName", "Zoë Q"), ("MessageType", "image"),
             ("SmsSid", "MM88888888888888888888888888888888"), ("WaId", "14155550199"),
             ("SmsStatus", "received"), ("Body", "Is this on the menu? 🍝"),
             ("To", WA_SENDER), ("MessagingServiceSid", SERVICE_SID), ("NumSegments", "1"),
             ("ReferralNumMedia", "0"), ("MessageSid", "MM88888888888888888888888888888888"),
             ("AccountSid", ACCOUNT_SID), ("From", WA_CUSTOMER),
             ("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/%s/Messages/"
              "MM88888888888888888888888888888888/Media/ME00000000000000000000000000000000"
              % ACCOUNT_SID),
             ("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/%s/Messages/"
              "MM88888888888888888888888888888888/Media/ME11111111111111111111111111111111"
              % ACCOUNT_SID),
             ("ApiVersion", "2010-04-01")]),
    dict(name="inbound_whatsapp_button_location",
         description="A WhatsApp quick-reply button press (ButtonText, ButtonPayload, the "
         "replied-to message) followed in the same form by a shared location (Latitude, "
         "Longitude, Address, Label), plus a field VoicePipe does not know.",
         kind="inbound", url=INBOUND_URL,
         params=[
             ("SmsMessageSid", "SM99999999999999999999999999999999"), ("NumMedia", "0"),
             ("ProfileName", "Zoë Q"), ("MessageType", "button"),
             ("SmsSid", "SM99999999999999999999999999999999"), ("WaId", "14155550199"),
             ("SmsStatus", "received"), ("Body", "Confirm"), ("ButtonText", "Confirm"),
             ("ButtonPayload", "confirm:booking-42"), ("To", WA_SENDER),
             ("NumSegments", "1"), ("MessageSid", "SM99999999999999999999999999999999"),
             ("OriginalRepliedMessageSender", WA_SENDER),
             ("OriginalRepliedMessageSid", SIDS["template"]),
             ("Latitude", "37.7749295"), ("Longitude", "-122.4194155"),
             ("Address", "1 Market St, San Francisco"), ("Label", "Office"),
             ("AccountSid", ACCOUNT_SID), ("From", WA_CUSTOMER), ("ApiVersion", "2010-04-01"),
             ("SomeFutureField", "x=1&y=2")]),
    dict(name="status_sent",
         description="Status callback: the SMS left Twilio (sent).",
         kind="status", url=STATUS_URL,
         params=[
             ("SmsSid", SIDS["from"]), ("SmsStatus", "sent"), ("MessageStatus", "sent"),
             ("To", CUSTOMER), ("MessageSid", SIDS["from"]), ("AccountSid", ACCOUNT_SID),
             ("From", TWILIO_NUMBER), ("ApiVersion", "2010-04-01")]),
    dict(name="status_delivered",
         description="Status callback: the SMS was delivered; carries RawDlrDoneDate "
         "(YYMMDDhhmm).",
         kind="status", url=STATUS_URL,
         params=[
             ("SmsSid", SIDS["from"]), ("SmsStatus", "delivered"),
             ("MessageStatus", "delivered"), ("To", CUSTOMER), ("MessageSid", SIDS["from"]),
             ("AccountSid", ACCOUNT_SID), ("From", TWILIO_NUMBER),
             ("ApiVersion", "2010-04-01"), ("RawDlrDoneDate", "2308240501")]),
    dict(name="status_undelivered_opted_out",
         description="Status callback: undelivered, ErrorCode 21610 (opted out).",
         kind="status", url=STATUS_URL,
         params=[
             ("ErrorCode", "21610"), ("SmsSid", SIDS["from"]), ("SmsStatus", "undelivered"),
             ("MessageStatus", "undelivered"), ("To", CUSTOMER), ("MessageSid", SIDS["from"]),
             ("AccountSid", ACCOUNT_SID), ("From", TWILIO_NUMBER),
             ("ApiVersion", "2010-04-01")]),
    dict(name="status_whatsapp_read",
         description="Status callback for WhatsApp: read, with the channel fields and "
         "EventType=READ.",
         kind="status", url=STATUS_URL,
         params=[
             ("EventType", "READ"), ("ChannelPrefix", "whatsapp"),
             ("ChannelInstallSid", "XE0123456789abcdef0123456789abcdef"),
             ("ChannelStatusMessage", "Message read"), ("SmsSid", SIDS["whatsapp"]),
             ("SmsStatus", "read"), ("MessageStatus", "read"), ("To", WA_CUSTOMER),
             ("MessagingServiceSid", SERVICE_SID), ("MessageSid", SIDS["whatsapp"]),
             ("AccountSid", ACCOUNT_SID), ("From", WA_SENDER), ("ApiVersion", "2010-04-01")]),
    dict(name="status_whatsapp_failed_window",
         description="Status callback for WhatsApp: failed with ErrorCode 63016 and an "
         "ErrorMessage (outside the 24-hour window).",
         kind="status", url=STATUS_URL,
         params=[
             ("ChannelPrefix", "whatsapp"),
             ("ChannelInstallSid", "XE0123456789abcdef0123456789abcdef"),
             ("ErrorCode", "63016"),
             ("ErrorMessage", "Failed to send freeform message because you are outside the "
              "allowed window."),
             ("SmsSid", SIDS["whatsapp"]), ("SmsStatus", "failed"), ("MessageStatus", "failed"),
             ("To", WA_CUSTOMER), ("MessageSid", SIDS["whatsapp"]),
             ("AccountSid", ACCOUNT_SID), ("From", WA_SENDER), ("ApiVersion", "2010-04-01")]),
]


def build_webhook_case(spec):
    validator = RequestValidator(WEBHOOK_TOKEN)
    params = dict(spec["params"])
    assert len(params) == len(spec["params"]), "messaging webhooks have no repeated names"
    signature = validator.compute_signature(spec["url"], params)
    if not validator.validate(spec["url"], params, signature):
        sys.exit("the SDK rejects its own signature for " + spec["name"])
    tampered = dict(params, Body=params.get("Body", "") + "!")
    if validator.validate(spec["url"], tampered, signature):
        sys.exit("the SDK accepts a tampered body for " + spec["name"])
    body = urlencode(spec["params"])
    assert own_form_encode(spec["params"]) == body
    return {
        "name": spec["name"],
        "description": spec["description"],
        "kind": spec["kind"],
        "auth_token": WEBHOOK_TOKEN,
        "url": spec["url"],
        "body": body,
        "params": [list(p) for p in spec["params"]],
        "signature": signature,
    }


# --- TwiML --------------------------------------------------------------------------------


def twiml_cases():
    cases = []

    def add(name, description, response):
        cases.append({"name": name, "description": description, "xml": str(response)})

    add("empty", "Acknowledge without replying: an empty <Response>.", MessagingResponse())
    r = MessagingResponse()
    r.message("Thanks! We got your message & will reply soon <3")
    add("message_text", "One reply; '&' and '<' escaped, '>' too.", r)
    r = MessagingResponse()
    r.message("¡Hola Zoë! 🍝", to=WA_CUSTOMER, from_=WA_SENDER,
              action="https://agent.example.com/twilio/messages/status?id=1&x=2", method="POST")
    add("message_attributes", "A reply with to, from, action and method (sorted by name; '&' "
        "in the action URL escaped); non-ASCII raw.", r)
    r = MessagingResponse()
    m = r.message()
    m.body("Here is the menu")
    m.media(MEDIA_1)
    m.media(MEDIA_2)
    add("message_body_media", "A reply with a <Body> and two <Media> nouns.", r)
    r = MessagingResponse()
    r.message("First")
    r.message("Second")
    add("two_messages", "Two replies in one response.", r)
    r = MessagingResponse()
    r.message("")
    add("message_empty_body", "An empty body renders as <Message />.", r)
    return cases


def main():
    meta = dict(sdk_metadata(), requests=requests.__version__)
    rest = [build_rest_case(s) for s in SPECS]
    webhooks = [build_webhook_case(s) for s in WEBHOOK_SPECS]
    twiml = twiml_cases()
    names = [c["name"] for c in rest + webhooks + twiml]
    assert len(names) == len(set(names))
    # Self-checks on facts the Swift side relies on.
    by_name = {c["name"]: c for c in rest}
    first = by_name["send_from_number"]["exchanges"][0]["request"]
    assert first["body"].startswith("To=%2B14155550199&From=%2B14155550100&Body="), first["body"]
    pages = by_name["list_filtered_two_pages"]["exchanges"]
    assert pages[1]["request"]["path_and_query"] == json.loads(pages[0]["response"]["body"])["next_page_uri"]
    assert by_name["error_20429_too_many_requests"]["exception"]["code"] == 20429

    doc = {
        "about": "Programmable Messaging golden vectors from the official twilio Python SDK: "
        "the exact HTTP requests twilio.rest.Client sends for messages.create, "
        "messages(sid).fetch and messages.list (paging included), the canned answers and what "
        "the SDK made of them; messaging webhook form bodies with the signature the SDK's "
        "RequestValidator computes; MessagingResponse TwiML. See README.md, section 5.",
        "sdk": meta,
        "base_url": "https://api.twilio.com",
        "fields": {
            "rest[].call": "the SDK call: operation (create | fetch | list), sid for fetch, and the "
            "keyword arguments in snake_case ('from' is the SDK's from_)",
            "rest[].exchanges": "every request the SDK made, in order, as it goes on the wire "
            "(method, url, path, query, path_and_query, body, form, authorization, "
            "content_type, accept), each with the canned response (status, body) it got",
            "rest[].result": "success only: the MessageInstance fields (or the list of them); "
            "'from' is the SDK's from_; datetimes as ISO 8601",
            "rest[].exception": "errors only: TwilioRestException's class, status, code, msg",
            "rest[].twilio_error": "errors only: code, message, more_info, status of the JSON "
            "error body",
            "webhooks[].body": "the raw form body Twilio POSTs (fields in 'params' order)",
            "webhooks[].params": "the decoded fields as [name, value] pairs",
            "webhooks[].signature": "X-Twilio-Signature: RequestValidator(auth_token)."
            "compute_signature(url, params), accepted by validate()",
            "twiml[].xml": "str(MessagingResponse) exactly",
        },
        "rest": rest,
        "webhooks": webhooks,
        "twiml": twiml,
    }
    ok = write_or_check(os.path.join(HERE, "messaging.json"), dump_json(doc))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
