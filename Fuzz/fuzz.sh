#!/usr/bin/env bash
# Fuzz VoicePipe's parsers with libFuzzer + AddressSanitizer, each for SECONDS (default 60).
# Usage: bash Fuzz/fuzz.sh [wav|twilio|providers|messaging|all] [SECONDS]
#   wav     the WAV parser (VoiceDSP/IO + G711 sources, Fuzz/WAVParserFuzzer.swift), seeded with every WAV
#           under TestVectors/
#   twilio  the Media Streams reader (TwilioMediaStreams/MediaStreams sources, Fuzz/MediaStreamFuzzer.swift),
#           seeded with the recorded Twilio frames; also checks the JSON scanner against Foundation's parser
#   providers  the hosted providers' parsers (VoiceProviders: SSE, JSONValue, the Realtime, Chat Completions
#           and Deepgram decoders; Fuzz/ProviderFuzzer.swift), seeded with typical provider messages written
#           below; also checks that however a stream is cut into reads the SSE events are the same, and that
#           JSONValue reads back what it renders
#   messaging  the Messaging and Conversations webhook parsers (TwilioMessaging's InboundMessage,
#           MessageStatusCallback and ConversationsWebhookEvent over TwilioCore's form decoding;
#           Fuzz/MessagingFuzzer.swift), seeded with the signed webhook bodies of TestVectors/twilio/messaging.json
#           and conversations.json; also checks that a parsed payload parses again from its fields
# Builds into .build-fuzz/ and stops at the first crash (the input is saved in Fuzz/artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-all}"
seconds="${2:-60}"
mkdir -p .build-fuzz Fuzz/artifacts
flags=(-O -sanitize=fuzzer,address -parse-as-library -package-name VoicePipe
    -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault)

fuzz_wav() {
    mkdir -p Fuzz/corpus/wav
    find TestVectors -name '*.wav' -size -300k -exec cp {} Fuzz/corpus/wav/ \;
    # The WAV parser and what it uses (G.711); the rest of VoiceDSP needs C modules the parser does not.
    mapfile -t sources < <(find Sources/VoiceDSP/IO Sources/VoiceDSP/G711 -name '*.swift' | sort)
    swiftc "${flags[@]}" -module-name VoiceDSPFuzz "${sources[@]}" Fuzz/WAVParserFuzzer.swift -o .build-fuzz/wav-fuzzer
    .build-fuzz/wav-fuzzer -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix=Fuzz/artifacts/ Fuzz/corpus/wav
}

fuzz_twilio() {
    mkdir -p Fuzz/corpus/twilio
    local n=0
    while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" > "Fuzz/corpus/twilio/call-$n.json"
    done < TestVectors/twilio/media_streams/bidirectional_call.twilio.jsonl
    while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" > "Fuzz/corpus/twilio/app-$n.json"
    done < TestVectors/twilio/media_streams/bidirectional_call.app.jsonl
    # The reader and what it needs; the session (which needs VoiceDSP) is left out.
    local dir=Sources/TwilioMediaStreams/MediaStreams
    swiftc "${flags[@]}" -module-name TwilioFuzz \
        "$dir/JSONScanner.swift" "$dir/TwilioProtocolError.swift" "$dir/MediaStreamReader.swift" "$dir/Base64.swift" \
        "$dir/TwilioMessage.swift" "$dir/AppMessage.swift" "$dir/MediaStreamWriter.swift" Sources/TwilioCore/HexDigit.swift \
        Fuzz/MediaStreamFuzzer.swift -o .build-fuzz/twilio-fuzzer
    .build-fuzz/twilio-fuzzer -max_total_time="$seconds" -max_len=2048 -print_final_stats=1 \
        -artifact_prefix=Fuzz/artifacts/ Fuzz/corpus/twilio
}

fuzz_providers() {
    local seeds=Fuzz/corpus/providers
    mkdir -p "$seeds"
    cat > "$seeds/chat-text.sse" <<'EOF'
data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

: keep-alive

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Your order shipped "},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"on Tuesday. \u00e9t\u00e9 \ud83d\ude00"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":52,"completion_tokens":9,"total_tokens":61}}

data: [DONE]

EOF
    cat > "$seeds/chat-tool-call.sse" <<'EOF'
data: {"id":"chatcmpl-2","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"lookup_order","arguments":""}}]},"finish_reason":null}]}

data: {"id":"chatcmpl-2","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"order\":"}}]},"finish_reason":null}]}

data: {"id":"chatcmpl-2","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"A-1042\"}"}}]},"finish_reason":null}]}

data: {"id":"chatcmpl-2","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_def","type":"function","function":{"name":"hang_up","arguments":{}}}]},"finish_reason":null}]}

data: {"id":"chatcmpl-2","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

data: [DONE]

EOF
    # Ollama's parallel calls (all at index 0) with CRLF line ends, then an id, a retry, an event type, empty data.
    printf '%s\r\n' 'retry: 3000' 'id: 7' \
        'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","index":0,"type":"function","function":{"name":"hang_up","arguments":"{}"}},{"id":"call_2","index":0,"type":"function","function":{"name":"send_digits","arguments":"{\"digits\":\"12#\"}"}}]},"finish_reason":"tool_calls"}]}' \
        '' 'event: ping' 'data' 'data:' '' 'data: [DONE]' '' > "$seeds/chat-ollama-crlf.sse"
    cat > "$seeds/chat-error.sse" <<'EOF'
event: error
data: {"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}

EOF
    printf '%s' '{"choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null},{"index":1,"delta":{"content":"no"}}]}' \
        > "$seeds/chat-chunk.json"
    printf '%s' '{"type":"response.output_audio.delta","event_id":"event_4","response_id":"resp_1","item_id":"item_2","output_index":0,"content_index":0,"delta":"/39+fX18e3p5eHd2dXRzcnFwb25tbGtqaWhnZmVkY2JhYA=="}' \
        > "$seeds/realtime-audio-delta.json"
    printf '%s' '{"type":"response.output_audio_transcript.delta","event_id":"event_5","response_id":"resp_1","item_id":"item_2","output_index":0,"content_index":0,"delta":"Your order "}' \
        > "$seeds/realtime-transcript-delta.json"
    printf '%s' '{"type":"error","event_id":"event_6","error":{"type":"invalid_request_error","code":"invalid_value","message":"Invalid value: pcm8.","param":"session.audio.output.format","event_id":"client_3"}}' \
        > "$seeds/realtime-error.json"
    printf '%s' '{"type":"response.done","event_id":"event_7","response":{"object":"realtime.response","id":"resp_1","status":"incomplete","status_details":{"type":"incomplete","reason":"max_output_tokens"},"output":[]}}' \
        > "$seeds/realtime-response-done.json"
    printf '%s' '{"type":"Results","channel_index":[0,1],"duration":1.02,"start":3.5,"is_final":true,"speech_final":true,"from_finalize":false,"channel":{"alternatives":[{"transcript":"Where is my order?","confidence":0.97,"words":[{"word":"where","start":3.52,"end":3.7,"confidence":0.99,"punctuated_word":"Where"},{"word":"is","start":3.7,"end":3.8,"confidence":0.98,"punctuated_word":"is"},{"word":"my","start":3.8,"end":3.95,"confidence":0.98},{"word":"order","start":3.95,"end":4.4,"confidence":0.91,"punctuated_word":"order?"}]}]},"metadata":{"request_id":"9e1f","model_info":{"name":"general-nova-3","version":"2025-01-01.0","arch":"nova-3"}}}' \
        > "$seeds/deepgram-results.json"
    printf '%s' '{"type":"UtteranceEnd","channel":[0,1],"last_word_end":4.4}' > "$seeds/deepgram-utterance-end.json"
    printf '%s' '[null,true,false,0,-0.0,1e300,-12.5e-3,9007199254740993,"\u0000\u001f\\\"\/",{"b":[],"a":{}}]' \
        > "$seeds/json-values.json"
    # The parsers and what they use; the clients themselves (AsyncHTTPClient, NIO, VoiceAgent) are left out.
    local dir=Sources/VoiceProviders
    swiftc "${flags[@]}" -module-name VoiceProvidersFuzz \
        "$dir/ServerSentEvents.swift" "$dir/JSONValue.swift" "$dir/ProviderError.swift" "$dir/RealtimeServerEvent.swift" \
        "$dir/ChatCompletionStream.swift" "$dir/DeepgramMessage.swift" Fuzz/ProviderFuzzer.swift -o .build-fuzz/providers-fuzzer
    .build-fuzz/providers-fuzzer -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix=Fuzz/artifacts/ "$seeds"
}

fuzz_messaging() {
    local seeds=Fuzz/corpus/messaging
    mkdir -p "$seeds"
    python3 -c '
import json, sys
for index, webhook in enumerate(json.load(open("TestVectors/twilio/messaging.json"))["webhooks"]):
    open("%s/webhook-%d.form" % (sys.argv[1], index), "w").write(webhook["body"])
for index, webhook in enumerate(json.load(open("TestVectors/twilio/conversations.json"))["webhooks"]):
    open("%s/conversations-%d.form" % (sys.argv[1], index), "w").write(webhook["body"])
' "$seeds"
    # The parsers' own modules, as the package has them: TwilioCore's form decoding, and TwilioREST's error type
    # alone (the rest of TwilioREST needs AsyncHTTPClient, which the parsers do not).
    local out=.build-fuzz/messaging
    mkdir -p "$out"
    swiftc "${flags[@]}" -emit-library -static -emit-module -module-name TwilioCore -emit-module-path "$out/TwilioCore.swiftmodule" \
        Sources/TwilioCore/FormEncoding.swift Sources/TwilioCore/HexDigit.swift -o "$out/libTwilioCore.a"
    swiftc "${flags[@]}" -emit-library -static -emit-module -module-name TwilioREST -emit-module-path "$out/TwilioREST.swiftmodule" \
        Sources/TwilioREST/TwilioRESTError.swift -o "$out/libTwilioREST.a"
    local dir=Sources/TwilioMessaging
    swiftc "${flags[@]}" -module-name TwilioMessagingFuzz -I "$out" -L "$out" -lTwilioCore -lTwilioREST \
        "$dir/InboundMessage.swift" "$dir/MessageStatusCallback.swift" "$dir/MessagingWebhookError.swift" "$dir/MessageStatus.swift" \
        "$dir/MessagingAddress.swift" "$dir/MessagingError.swift" "$dir/ConversationsWebhook.swift" \
        "$dir/ConversationsWebhookError.swift" "$dir/ConversationsResources.swift" Fuzz/MessagingFuzzer.swift \
        -o .build-fuzz/messaging-fuzzer
    .build-fuzz/messaging-fuzzer -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix=Fuzz/artifacts/ "$seeds"
}

case "$target" in
wav) fuzz_wav ;;
twilio) fuzz_twilio ;;
providers) fuzz_providers ;;
messaging) fuzz_messaging ;;
all) fuzz_wav && fuzz_twilio && fuzz_providers && fuzz_messaging ;;
*) echo "usage: $0 [wav|twilio|providers|messaging|all] [SECONDS]" >&2; exit 2 ;;
esac
