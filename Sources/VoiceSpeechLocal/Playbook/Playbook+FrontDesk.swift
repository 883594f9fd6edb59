//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

extension Playbook {
    /// The bundled playbook: a front desk that books callbacks (the number, then the day), gives the opening
    /// hours, offers a callback to callers who ask for an extension and says goodbye. `Playbooks/front-desk.json` in the repository is the same playbook as a file
    /// to start your own from.
    public static let frontDesk = Playbook(
        greeting: "Thank you for calling VoicePipe. I can book a callback, or tell you our opening hours. What would you like?",
        fallback: "Sorry, I didn't catch that. You can ask for a callback, our opening hours, or say goodbye.",
        intents: [
            Intent(
                name: "callback", phrases: ["telephone number", "phone number", "call me back", "call back", "callback"],
                reply: "Of course, I can book a callback for you. Please tell me the number we should call, one digit at a time, "
                    + "and I will read it back to you before anything is booked."),
            Intent(
                name: "number", slot: .digits, minimumDigits: 3,
                reply: "Thank you. We will call you back on {digits}. Which day suits you best, today or tomorrow?"),
            Intent(
                name: "day",
                phrases: ["today", "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
                reply: "{match} it is. We will call you then. Is there anything else I can help with?"),
            Intent(
                name: "hours", phrases: ["hours", "opening hours", "open"],
                reply: "We are open from nine in the morning to five in the afternoon, Monday to Friday."),
            Intent(
                name: "transfer", phrases: ["extension", "transfer", "operator"],
                reply: "Everyone is on a call right now, so let me book a callback for you instead. What number should we call?"),
            Intent(
                name: "goodbye", phrases: ["goodbye", "that's all", "no thank you"],
                reply: "Thank you for calling. Goodbye.", hangUp: true),
        ],
        // Not "bye": over the telephone band pocketsphinx hears "five" as "bye", and a digit must never hang up.
        vocabulary: ["at", "to", "am", "pm", "in the morning", "in the afternoon"])
}
