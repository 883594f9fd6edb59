#!/usr/bin/env python3
"""Generate conversations.json: Twilio Conversations v1 golden vectors from the official twilio Python SDK.

Two parts, both made by the SDK itself:

- "rest": each case makes one SDK call through twilio.rest.Client().conversations.v1 (create, fetch,
  update and delete a conversation; add, list and remove participants; create and list messages;
  list a phone number's ParticipantConversations) with the recording HTTP client of generate_rest.py,
  so no network is used. Every request the SDK made is kept as it goes on the wire (built with
  requests exactly as generate_rest.py does): method, path and query, exact form body, and headers
  (X-Twilio-Webhook-Enabled included), with the canned response it was given and what the SDK made
  of it (the instance's public attributes, True for a delete, or TwilioRestException). A list case
  can make several requests: the SDK follows meta.next_page_url, an absolute URL, verbatim.
- "webhooks": form POSTs Twilio sends to a Conversations post-event webhook (onMessageAdded over SMS
  and WhatsApp and as an API echo, onDeliveryUpdated, onConversationStateUpdated, onParticipantAdded,
  onConversationAdded, and two events a handler need not type), as the raw form body, the decoded
  fields and the X-Twilio-Signature twilio.request_validator.RequestValidator computes (checked with
  its validate(), which must also reject a tampered field).

Usage:
    pip install twilio==9.13.0
    python3 TestVectors/twilio/generate_conversations.py           # rewrite conversations.json
    python3 TestVectors/twilio/generate_conversations.py --check   # compare with the committed file
"""

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
    RecordingHttpClient, flatten_form, own_form_encode, wire_request)

import requests  # noqa: E402
from twilio.base.exceptions import TwilioRestException  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402
from twilio.rest import Client  # noqa: E402

BASE_URL = "https://conversations.twilio.com"
CUSTOMER = "+14155550199"  # the person texting with the agent
TWILIO_NUMBER = "+14155550100"  # the agent's Twilio number
WA_CUSTOMER = "whatsapp:" + CUSTOMER
WA_SENDER = "whatsapp:" + TWILIO_NUMBER
AGENT = "voicepipe-agent"  # the Author the agent writes as
CHAT_SERVICE = "IS0123456789abcdef0123456789abcdef"
MESSAGING_SERVICE = "MG0123456789abcdef0123456789abcdef"
CONVERSATION = "CH0123456789abcdef0123456789abcdef"
OTHER_CONVERSATION = "CHfedcba9876543210fedcba9876543210"
UNIQUE_NAME = "booking-42_zoë q"  # '-' and '_' kept, the space and 'ë' percent-encoded in paths
SMS_PARTICIPANT = "MB11111111111111111111111111111111"
WA_PARTICIPANT = "MB22222222222222222222222222222222"
CHAT_PARTICIPANT = "MB33333333333333333333333333333333"
MESSAGES = ["IM%032d" % n for n in range(4)]
WEBHOOK_URL = "https://agent.example.com/twilio/conversations/events"
DATE = "2026-08-11T13:03:28Z"
DATE_LATER = "2026-08-11T13:05:02Z"

CONVERSATION_URL = "%s/v1/Conversations/%s" % (BASE_URL, CONVERSATION)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def error_body(code, message, status):
    return compact({"code": code, "message": message,
                    "more_info": "https://www.twilio.com/docs/errors/%d" % code, "status": status})


# --- canned resources (twilio-conversations.md §1.2–1.8) ----------------------------------


def conversation_resource(**overrides):
    body = {
        "sid": CONVERSATION,
        "account_sid": ACCOUNT_SID,
        "chat_service_sid": CHAT_SERVICE,
        "messaging_service_sid": MESSAGING_SERVICE,
        "friendly_name": "Booking 42",
        "unique_name": UNIQUE_NAME,
        "attributes": "{\"contact\":\"+14155550199\"}",
        "date_created": DATE,
        "date_updated": DATE,
        "state": "active",
        "timers": {},
        "bindings": {},
        "url": CONVERSATION_URL,
        "links": {
            "participants": CONVERSATION_URL + "/Participants",
            "messages": CONVERSATION_URL + "/Messages",
            "webhooks": CONVERSATION_URL + "/Webhooks",
            "export": CONVERSATION_URL + "/Export",
        },
    }
    for key, value in overrides.items():
        assert key in body, key
        body[key] = value
    return body


def participant_resource(sid, identity=None, binding=None, attributes="{}"):
    return {
        "account_sid": ACCOUNT_SID,
        "conversation_sid": CONVERSATION,
        "sid": sid,
        "identity": identity,
        "attributes": attributes,
        "messaging_binding": binding,
        "role_sid": "RL0123456789abcdef0123456789abcdef",
        "date_created": DATE,
        "date_updated": DATE,
        "url": "%s/Participants/%s" % (CONVERSATION_URL, sid),
        "last_read_message_index": None,
        "last_read_timestamp": None,
    }


SMS_BINDING = {"type": "sms", "address": CUSTOMER, "proxy_address": TWILIO_NUMBER}
WA_BINDING = {"type": "whatsapp", "address": WA_CUSTOMER, "proxy_address": WA_SENDER}


def message_resource(index, author, body, participant_sid=None, attributes="{}", delivery=None,
                     media=None):
    sid = MESSAGES[index]
    url = "%s/Messages/%s" % (CONVERSATION_URL, sid)
    return {
        "account_sid": ACCOUNT_SID,
        "conversation_sid": CONVERSATION,
        "sid": sid,
        "index": index,
        "author": author,
        "body": body,
        "media": media,
        "attributes": attributes,
        "participant_sid": participant_sid,
        "date_created": DATE,
        "date_updated": DATE,
        "url": url,
        "delivery": delivery,
        "links": {"delivery_receipts": url + "/Receipts", "channel_metadata": url + "/ChannelMetadata"},
        "content_sid": None,
    }


def page_body(key, items, path, page, page_size, query="", next_token=None, previous_token=None):
    """A v1 list page: the list under `key`, and `meta` with absolute *_page_url."""
    base = BASE_URL + path + "?" + (query + "&" if query else "")
    return compact({
        key: items,
        "meta": {
            "page": page,
            "page_size": page_size,
            "first_page_url": "%sPageSize=%d&Page=0" % (base, page_size),
            "previous_page_url": ("%sPageSize=%d&Page=%d&PageToken=%s" % (base, page_size, page - 1, previous_token))
            if previous_token else None,
            "url": "%sPageSize=%d&Page=%d" % (base, page_size, page),
            "next_page_url": ("%sPageSize=%d&Page=%d&PageToken=%s" % (base, page_size, page + 1, next_token))
            if next_token else None,
            "key": key,
        },
    })


CREATED = conversation_resource()
CLOSED = conversation_resource(state="closed", date_updated=DATE_LATER)
RENAMED = conversation_resource(
    friendly_name="Booking 42 (Zoë)", date_updated=DATE_LATER,
    attributes="{\"contact\":\"+14155550199\",\"stage\":\"confirmed\"}")
TIMED = conversation_resource(
    unique_name=None, friendly_name=None, attributes="{}",
    timers={"date_inactive": "2026-08-11T14:03:28Z", "date_closed": "2026-09-10T13:03:28Z"})
SMS_ADDED = participant_resource(SMS_PARTICIPANT, binding=SMS_BINDING)
WA_ADDED = participant_resource(WA_PARTICIPANT, binding=WA_BINDING, attributes="{\"lang\":\"es\"}")
CHAT_ADDED = participant_resource(CHAT_PARTICIPANT, identity=AGENT)
POSTED = message_resource(
    2, AGENT, "Your table for 2 is booked for 7pm. Reply CHANGE to move it.",
    attributes="{\"voicepipe_id\":\"turn-7\"}",
    delivery={"total": 1, "sent": "none", "delivered": "none", "read": "none", "failed": "none",
              "undelivered": "none"})
INBOUND = message_resource(1, CUSTOMER, "Can I book a table for 2 at 7?", SMS_PARTICIPANT)
FIRST = message_resource(0, "system", "Welcome to VoicePipe Bistro!")
PARTICIPANT_CONVERSATION = {
    "account_sid": ACCOUNT_SID,
    "chat_service_sid": CHAT_SERVICE,
    "participant_sid": SMS_PARTICIPANT,
    "participant_user_sid": None,
    "participant_identity": None,
    "participant_messaging_binding": dict(SMS_BINDING, level=None, name=None, projected_address=None),
    "conversation_sid": CONVERSATION,
    "conversation_unique_name": UNIQUE_NAME,
    "conversation_friendly_name": "Booking 42",
    "conversation_attributes": "{\"contact\":\"+14155550199\"}",
    "conversation_date_created": DATE,
    "conversation_date_updated": DATE,
    "conversation_created_by": None,
    "conversation_state": "active",
    "conversation_timers": {},
    "links": {"participant": CONVERSATION_URL + "/Participants/" + SMS_PARTICIPANT,
              "conversation": CONVERSATION_URL},
}
CLOSED_PARTICIPANT_CONVERSATION = dict(
    PARTICIPANT_CONVERSATION, conversation_sid=OTHER_CONVERSATION, conversation_unique_name=None,
    conversation_friendly_name=None, conversation_state="closed", conversation_attributes="{}",
    links={"participant": "%s/v1/Conversations/%s/Participants/MB44444444444444444444444444444444"
           % (BASE_URL, OTHER_CONVERSATION),
           "conversation": "%s/v1/Conversations/%s" % (BASE_URL, OTHER_CONVERSATION)},
    participant_sid="MB44444444444444444444444444444444")

PARTICIPANTS_PATH = "/v1/Conversations/%s/Participants" % CONVERSATION
MESSAGES_PATH = "/v1/Conversations/%s/Messages" % CONVERSATION

# --- REST cases ---------------------------------------------------------------------------
# Each spec: name, description, credentials, call (operation; the conversation or participant
# sid; the SDK's keyword arguments in snake_case), responses (status, body text) in order.

SPECS = [
    dict(name="create_conversation",
         description="Create a conversation with a friendly name, a unique name, attributes (a JSON "
         "string) and a Messaging Service, and X-Twilio-Webhook-Enabled: true. 201.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create_conversation", "friendly_name": "Booking 42",
               "unique_name": UNIQUE_NAME, "attributes": CREATED["attributes"],
               "messaging_service_sid": MESSAGING_SERVICE, "x_twilio_webhook_enabled": "true"},
         responses=[(201, compact(CREATED))]),
    dict(name="create_conversation_timers",
         description="Create a conversation with State and both timers (dotted names "
         "Timers.Inactive and Timers.Closed, ISO 8601 durations). API key credentials.",
         credentials=API_KEY_CREDENTIALS,
         call={"operation": "create_conversation", "state": "active", "timers_inactive": "PT1H",
               "timers_closed": "P30D"},
         responses=[(201, compact(TIMED))]),
    dict(name="fetch_conversation_by_unique_name",
         description="Fetch a conversation by its unique name in place of the sid: GET, no body; "
         "the space and the non-ASCII letter are percent-encoded in the path.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "fetch_conversation", "conversation": UNIQUE_NAME},
         responses=[(200, compact(CREATED))]),
    dict(name="update_conversation_close",
         description="Close a conversation: State=closed. 200.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "update_conversation", "conversation": CONVERSATION, "state": "closed"},
         responses=[(200, compact(CLOSED))]),
    dict(name="update_conversation_name_attributes",
         description="Rename a conversation and replace its attributes, with "
         "X-Twilio-Webhook-Enabled: false.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "update_conversation", "conversation": CONVERSATION,
               "friendly_name": RENAMED["friendly_name"], "attributes": RENAMED["attributes"],
               "x_twilio_webhook_enabled": "false"},
         responses=[(200, compact(RENAMED))]),
    dict(name="delete_conversation",
         description="Delete a conversation: DELETE, answered 204 with an empty body. (twilio 9.13.0 "
         "drops an X-Twilio-Webhook-Enabled given to delete, so none is passed here.)",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "delete_conversation", "conversation": CONVERSATION},
         responses=[(204, "")]),
    dict(name="add_participant_sms",
         description="Add an SMS participant: MessagingBinding.Address (the customer) and "
         "MessagingBinding.ProxyAddress (the Twilio number). 201.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "add_participant", "conversation": CONVERSATION,
               "messaging_binding_address": CUSTOMER, "messaging_binding_proxy_address": TWILIO_NUMBER},
         responses=[(201, compact(SMS_ADDED))]),
    dict(name="add_participant_whatsapp",
         description="Add a WhatsApp participant (whatsapp:-prefixed address and proxy) with "
         "attributes and X-Twilio-Webhook-Enabled: true.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "add_participant", "conversation": CONVERSATION,
               "messaging_binding_address": WA_CUSTOMER, "messaging_binding_proxy_address": WA_SENDER,
               "attributes": WA_ADDED["attributes"], "x_twilio_webhook_enabled": "true"},
         responses=[(201, compact(WA_ADDED))]),
    dict(name="add_participant_chat",
         description="Add a chat participant by Identity; messaging_binding is null in the answer.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "add_participant", "conversation": CONVERSATION, "identity": AGENT},
         responses=[(201, compact(CHAT_ADDED))]),
    dict(name="list_participants_two_pages",
         description="List participants, 2 per page: the first page's meta.next_page_url is "
         "absolute (with a PageToken) and the SDK GETs it verbatim; the second has none.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "list_participants", "conversation": CONVERSATION, "page_size": 2},
         responses=[(200, page_body("participants", [SMS_ADDED, WA_ADDED], PARTICIPANTS_PATH, 0, 2,
                                    next_token="PTMB2222")),
                    (200, page_body("participants", [CHAT_ADDED], PARTICIPANTS_PATH, 1, 2,
                                    previous_token="PBMB3333"))]),
    dict(name="remove_participant",
         description="Remove a participant: DELETE …/Participants/{MB}, 204 with an empty body.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "remove_participant", "conversation": CONVERSATION,
               "participant": SMS_PARTICIPANT},
         responses=[(204, "")]),
    dict(name="create_message",
         description="Post a message as the agent: Author, Body (with '&', '?' and a newline), "
         "Attributes (a JSON string with a library id), and X-Twilio-Webhook-Enabled: true. 201.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create_message", "conversation": CONVERSATION, "author": AGENT,
               "body": "Booked: table for 2 at 7pm & a high chair?\nReply CHANGE to move it.",
               "attributes": POSTED["attributes"], "x_twilio_webhook_enabled": "true"},
         responses=[(201, compact(dict(POSTED, body="Booked: table for 2 at 7pm & a high chair?\n"
                                                    "Reply CHANGE to move it.")))]),
    dict(name="list_messages_desc_two_pages",
         description="List messages newest first, 2 per page: Order=desc and PageSize=2 in the "
         "query; the SDK follows the absolute next_page_url.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "list_messages", "conversation": CONVERSATION, "order": "desc",
               "page_size": 2},
         responses=[(200, page_body("messages", [POSTED, INBOUND], MESSAGES_PATH, 0, 2,
                                    query="Order=desc", next_token="PTIM1")),
                    (200, page_body("messages", [FIRST], MESSAGES_PATH, 1, 2, query="Order=desc",
                                    previous_token="PBIM0"))]),
    dict(name="list_participant_conversations",
         description="The conversations a phone number is in: GET /v1/ParticipantConversations"
         "?Address=%2B1… (one active, one closed), one page.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "list_participant_conversations", "address": CUSTOMER},
         responses=[(200, page_body("conversations", [PARTICIPANT_CONVERSATION,
                                                      CLOSED_PARTICIPANT_CONVERSATION],
                                    "/v1/ParticipantConversations", 0, 50,
                                    query=urlencode([("Address", CUSTOMER)])))]),
    # --- errors -----------------------------------------------------------------------------
    dict(name="error_50416_pair_in_use",
         description="Adding an SMS participant whose (address, proxy) pair is bound to another "
         "active conversation: code 50416 (HTTP status 409 and the message are illustrative).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "add_participant", "conversation": CONVERSATION,
               "messaging_binding_address": CUSTOMER, "messaging_binding_proxy_address": TWILIO_NUMBER},
         responses=[(409, error_body(
             50416, "A binding for this participant and proxy address already exists in Conversation "
             + OTHER_CONVERSATION, 409))]),
    dict(name="error_50437_pair_in_this_conversation",
         description="The same pair is already in this conversation: code 50437 (status illustrative).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "add_participant", "conversation": CONVERSATION,
               "messaging_binding_address": CUSTOMER, "messaging_binding_proxy_address": TWILIO_NUMBER},
         responses=[(409, error_body(
             50437, "Participant with provided address and proxy address is already in the "
             "conversation", 409))]),
    dict(name="error_50433_identity_present",
         description="A chat identity already in the conversation: code 50433 (status illustrative).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "add_participant", "conversation": CONVERSATION, "identity": AGENT},
         responses=[(409, error_body(50433, "Participant already exists", 409))]),
    dict(name="error_50407_invalid_address",
         description="A participant address that is not E.164: 400, code 50407.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "add_participant", "conversation": CONVERSATION,
               "messaging_binding_address": "4155550199", "messaging_binding_proxy_address": TWILIO_NUMBER},
         responses=[(400, error_body(50407, "Invalid messaging binding address", 400))]),
    dict(name="error_50377_closed",
         description="Updating a closed conversation: 400, code 50377 (message illustrative).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "update_conversation", "conversation": CONVERSATION, "state": "active"},
         responses=[(400, error_body(50377, "Conversation is closed and cannot be updated", 400))]),
    dict(name="error_50353_duplicate_unique_name",
         description="Creating a conversation with a unique name already in use: code 50353 "
         "(status illustrative).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create_conversation", "unique_name": UNIQUE_NAME},
         responses=[(409, error_body(50353, "Conversation with provided unique name already exists",
                                     409))]),
    dict(name="error_20404_fetch",
         description="Fetching an unknown conversation: 404, code 20404.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "fetch_conversation", "conversation": OTHER_CONVERSATION},
         responses=[(404, error_body(20404, "The requested resource /Conversations/%s was not found"
                                     % OTHER_CONVERSATION, 404))]),
    dict(name="error_20429_create_message",
         description="Too many concurrent requests while posting a message: 429, code 20429 (the "
         "SDK does not retry).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create_message", "conversation": CONVERSATION, "author": AGENT,
               "body": "hi"},
         responses=[(429, error_body(20429, "Too Many Requests", 429))]),
]


def run_sdk_call(client, call):
    kwargs = {k: v for k, v in call.items() if k not in ("operation", "conversation", "participant")}
    v1 = client.conversations.v1
    op = call["operation"]
    if op == "create_conversation":
        return v1.conversations.create(**kwargs)
    conversation = v1.conversations(call["conversation"]) if "conversation" in call else None
    if op == "fetch_conversation":
        return conversation.fetch(**kwargs)
    if op == "update_conversation":
        return conversation.update(**kwargs)
    if op == "delete_conversation":
        return conversation.delete(**kwargs)
    if op == "add_participant":
        return conversation.participants.create(**kwargs)
    if op == "list_participants":
        return conversation.participants.list(**kwargs)
    if op == "remove_participant":
        return conversation.participants(call["participant"]).delete(**kwargs)
    if op == "create_message":
        return conversation.messages.create(**kwargs)
    if op == "list_messages":
        return conversation.messages.list(**kwargs)
    if op == "list_participant_conversations":
        return v1.participant_conversations.list(**kwargs)
    raise ValueError(op)


def plain(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def instance_fields(instance):
    """The instance's public attributes, as the SDK parsed them (datetimes as ISO 8601)."""
    return {k: plain(v) for k, v in sorted(vars(instance).items()) if not k.startswith("_")}


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
    if not USER_AGENT_RE.match(prepared.headers.get("User-Agent", "")):
        sys.exit("unexpected User-Agent")
    split = urlsplit(prepared.url)
    if "%s://%s" % (split.scheme, split.netloc) != BASE_URL:
        sys.exit("unexpected origin " + prepared.url)
    query = split.query or None
    if query and own_form_encode(parse_qsl(query, keep_blank_values=True)) != query:
        sys.exit("own form encoding disagrees with the query " + query)
    headers = {k: v for k, v in prepared.headers.items() if k != "User-Agent"}
    return {
        "method": prepared.method,
        "url": prepared.url,
        "path": split.path,
        "query": query,
        "path_and_query": split.path + ("?" + query if query else ""),
        "body": body,
        "form": form,
        "authorization": prepared.headers.get("Authorization"),
        "content_type": prepared.headers.get("Content-Type"),
        "accept": prepared.headers.get("Accept"),
        "webhook_enabled": prepared.headers.get("X-Twilio-Webhook-Enabled"),
        "headers": headers,
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
        payload = json.loads(spec["responses"][-1][1])
        case["exception"] = {"class": type(exception).__name__, "status": exception.status,
                             "code": exception.code, "msg": exception.msg}
        case["twilio_error"] = {k: payload.get(k) for k in ("code", "message", "more_info", "status")}
    elif result is True:
        case["result"] = {"class": "bool", "value": True}
    elif isinstance(result, list):
        case["result"] = {"class": "list", "items": [instance_fields(item) for item in result]}
    else:
        case["result"] = {"class": type(result).__name__, "fields": instance_fields(result)}
    return case


# --- webhooks -----------------------------------------------------------------------------
# Field sets from twilio-conversations.md §2.1 (the onMessageAdded SMS body has the exact keys of
# a captured live delivery); values are this project's fake sids and numbers.

COMMON = [("AccountSid", ACCOUNT_SID)]

WEBHOOK_SPECS = [
    dict(name="on_message_added_sms",
         description="An SMS from the customer, added to the conversation its number pair is bound "
         "to: the exact keys of a live delivery (sorted by name), DateCreated with milliseconds.",
         url=WEBHOOK_URL,
         params=COMMON + [
             ("Attributes", "{}"), ("Author", CUSTOMER), ("Body", "Can I move it to 8? Thanks :) & bye"),
             ("ChatServiceSid", CHAT_SERVICE), ("ConversationSid", CONVERSATION),
             ("DateCreated", "2026-08-11T13:03:28.879Z"), ("EventType", "onMessageAdded"),
             ("Index", "1"), ("MessageSid", MESSAGES[1]), ("MessagingServiceSid", MESSAGING_SERVICE),
             ("ParticipantSid", SMS_PARTICIPANT), ("RetryCount", "0"), ("Source", "SMS")]),
    dict(name="on_message_added_whatsapp_media",
         description="A WhatsApp message with an image (Media, a JSON array in a string), posted to "
         "a scoped webhook URL with a query string; a field no handler knows is kept.",
         url=WEBHOOK_URL + "?tenant=7&channel=whatsapp",
         params=COMMON + [
             ("Attributes", "{}"), ("Author", WA_CUSTOMER), ("Body", "¿Y el menú? 🍝"),
             ("ChatServiceSid", CHAT_SERVICE), ("ConversationSid", CONVERSATION),
             ("DateCreated", "2026-08-11T13:04:10.002Z"), ("EventType", "onMessageAdded"),
             ("Index", "3"),
             ("Media", "[{\"Sid\":\"ME0123456789abcdef0123456789abcdef\",\"Filename\":\"menu.jpg\","
              "\"ContentType\":\"image/jpeg\",\"Size\":48213,\"Category\":\"media\"}]"),
             ("MessageSid", MESSAGES[3]), ("MessagingServiceSid", MESSAGING_SERVICE),
             ("ParticipantSid", WA_PARTICIPANT), ("RetryCount", "0"), ("Source", "WHATSAPP"),
             ("WebhookSid", "WH0123456789abcdef0123456789abcdef"), ("WebhookType", "webhook")]),
    dict(name="on_message_added_api_echo",
         description="The agent's own message, posted over REST with X-Twilio-Webhook-Enabled: "
         "true, coming back: Source=API, Author is the agent, no ParticipantSid.",
         url=WEBHOOK_URL,
         params=COMMON + [
             ("Attributes", "{\"voicepipe_id\":\"turn-7\"}"), ("Author", AGENT),
             ("Body", "Your table for 2 is booked for 7pm."), ("ChatServiceSid", CHAT_SERVICE),
             ("ClientIdentity", AGENT), ("ConversationSid", CONVERSATION),
             ("DateCreated", "2026-08-11T13:03:30.120Z"), ("EventType", "onMessageAdded"),
             ("Index", "2"), ("MessageSid", MESSAGES[2]), ("MessagingServiceSid", MESSAGING_SERVICE),
             ("RetryCount", "0"), ("Source", "API")]),
    dict(name="on_delivery_updated_undelivered",
         description="A delivery receipt: the agent's SMS undelivered, ErrorCode 21610 (the customer "
         "opted out).",
         url=WEBHOOK_URL,
         params=COMMON + [
             ("ChannelMessageSid", "SM0123456789abcdef0123456789abcdef"),
             ("ChatServiceSid", CHAT_SERVICE), ("ConversationSid", CONVERSATION),
             ("DateCreated", "2026-08-11T13:03:31.000Z"), ("DateUpdated", "2026-08-11T13:03:33.450Z"),
             ("DeliveryReceiptSid", "DY0123456789abcdef0123456789abcdef"), ("ErrorCode", "21610"),
             ("EventType", "onDeliveryUpdated"), ("MessageSid", MESSAGES[2]),
             ("ParticipantSid", SMS_PARTICIPANT), ("RetryCount", "0"), ("Status", "undelivered")]),
    dict(name="on_conversation_state_updated",
         description="The inactive timer fired: active to inactive, Reason=TIMER.",
         url=WEBHOOK_URL,
         params=COMMON + [
             ("ChatServiceSid", CHAT_SERVICE), ("ConversationSid", CONVERSATION),
             ("EventType", "onConversationStateUpdated"), ("MessagingServiceSid", MESSAGING_SERVICE),
             ("Reason", "TIMER"), ("RetryCount", "0"), ("Source", "API"), ("StateFrom", "active"),
             ("StateTo", "inactive"), ("StateUpdated", "2026-08-11T14:03:28.000Z")]),
    dict(name="on_participant_added",
         description="An SMS participant joined (autocreation): the dotted MessagingBinding.* names.",
         url=WEBHOOK_URL,
         params=COMMON + [
             ("Attributes", "{}"), ("ChatServiceSid", CHAT_SERVICE), ("ConversationSid", CONVERSATION),
             ("DateCreated", "2026-08-11T13:03:28.412Z"), ("EventType", "onParticipantAdded"),
             ("MessagingBinding.Address", CUSTOMER), ("MessagingBinding.ProxyAddress", TWILIO_NUMBER),
             ("MessagingBinding.Type", "SMS"), ("ParticipantSid", SMS_PARTICIPANT), ("RetryCount", "0"),
             ("Source", "SMS")]),
    dict(name="on_conversation_added",
         description="A conversation autocreated for an inbound SMS: the binding and its author.",
         url=WEBHOOK_URL,
         params=COMMON + [
             ("Attributes", "{}"), ("ChatServiceSid", CHAT_SERVICE), ("ConversationSid", CONVERSATION),
             ("DateCreated", "2026-08-11T13:03:28.101Z"), ("EventType", "onConversationAdded"),
             ("MessagingBinding.Address", CUSTOMER), ("MessagingBinding.AuthorAddress", CUSTOMER),
             ("MessagingBinding.ProxyAddress", TWILIO_NUMBER), ("MessagingServiceSid", MESSAGING_SERVICE),
             ("RetryCount", "0"), ("Source", "SMS"), ("State", "active")]),
    dict(name="on_message_updated_other",
         description="An event the library does not type (onMessageUpdated): kept with all its fields.",
         url=WEBHOOK_URL,
         params=COMMON + [
             ("Attributes", "{\"edited\":true}"), ("Author", AGENT), ("Body", "Booked for 8pm."),
             ("ChatServiceSid", CHAT_SERVICE), ("ConversationSid", CONVERSATION),
             ("DateCreated", "2026-08-11T13:03:30.120Z"), ("DateUpdated", "2026-08-11T13:06:00.000Z"),
             ("EventType", "onMessageUpdated"), ("Index", "2"), ("MessageSid", MESSAGES[2]),
             ("RetryCount", "0"), ("Source", "API")]),
    dict(name="on_participant_removed_other",
         description="Another untyped event (onParticipantRemoved).",
         url=WEBHOOK_URL,
         params=COMMON + [
             ("ChatServiceSid", CHAT_SERVICE), ("ConversationSid", CONVERSATION),
             ("EventType", "onParticipantRemoved"), ("MessagingBinding.Address", CUSTOMER),
             ("MessagingBinding.ProxyAddress", TWILIO_NUMBER), ("ParticipantSid", SMS_PARTICIPANT),
             ("RetryCount", "0"), ("Source", "API")]),
]


def build_webhook_case(spec):
    validator = RequestValidator(AUTH_TOKEN)
    params = dict(spec["params"])
    assert len(params) == len(spec["params"]), "no repeated names"
    signature = validator.compute_signature(spec["url"], params)
    if not validator.validate(spec["url"], params, signature):
        sys.exit("the SDK rejects its own signature for " + spec["name"])
    tampered = dict(params, ConversationSid=params["ConversationSid"] + "x")
    if validator.validate(spec["url"], tampered, signature):
        sys.exit("the SDK accepts a tampered body for " + spec["name"])
    body = urlencode(spec["params"])
    assert own_form_encode(spec["params"]) == body
    return {
        "name": spec["name"],
        "description": spec["description"],
        "auth_token": AUTH_TOKEN,
        "url": spec["url"],
        "event_type": params["EventType"],
        "body": body,
        "params": [list(p) for p in spec["params"]],
        "signature": signature,
    }


def main():
    meta = dict(sdk_metadata(), requests=requests.__version__)
    rest = [build_rest_case(s) for s in SPECS]
    webhooks = [build_webhook_case(s) for s in WEBHOOK_SPECS]
    names = [c["name"] for c in rest + webhooks]
    assert len(names) == len(set(names))
    # Self-checks on facts the Swift side relies on.
    by_name = {c["name"]: c for c in rest}
    for name in ("list_participants_two_pages", "list_messages_desc_two_pages"):
        pages = by_name[name]["exchanges"]
        assert pages[1]["request"]["url"] == json.loads(pages[0]["response"]["body"])["meta"]["next_page_url"]
    assert by_name["create_message"]["exchanges"][0]["request"]["webhook_enabled"] == "true"
    assert by_name["delete_conversation"]["result"]["value"] is True
    assert by_name["error_50416_pair_in_use"]["exception"]["code"] == 50416

    doc = {
        "about": "Twilio Conversations v1 golden vectors from the official twilio Python SDK: the "
        "exact HTTP requests twilio.rest.Client().conversations.v1 sends (conversations, "
        "participants, messages, ParticipantConversations; paging by absolute next_page_url), the "
        "canned answers and what the SDK made of them; Conversations webhook form bodies with the "
        "signature the SDK's RequestValidator computes. See README.md, section 6.",
        "sdk": meta,
        "base_url": BASE_URL,
        "fields": {
            "rest[].call": "the SDK call: operation, the conversation (sid or unique name) and "
            "participant sid it acts on, and the keyword arguments in snake_case",
            "rest[].exchanges": "every request the SDK made, in order, as it goes on the wire "
            "(method, url, path, query, path_and_query, body, form, authorization, content_type, "
            "accept, webhook_enabled, and all headers but User-Agent), each with the canned response "
            "(status, body) it got",
            "rest[].result": "success only: the instance's public attributes (or a list of them, or "
            "True for a delete); datetimes as ISO 8601",
            "rest[].exception": "errors only: TwilioRestException's class, status, code, msg",
            "rest[].twilio_error": "errors only: code, message, more_info, status of the JSON "
            "error body",
            "webhooks[].body": "the raw form body Twilio POSTs (fields in 'params' order)",
            "webhooks[].params": "the decoded fields as [name, value] pairs",
            "webhooks[].signature": "X-Twilio-Signature: RequestValidator(auth_token)."
            "compute_signature(url, params), accepted by validate()",
        },
        "rest": rest,
        "webhooks": webhooks,
    }
    ok = write_or_check(os.path.join(HERE, "conversations.json"), dump_json(doc))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
