import Media

/// The prompts calls can hear, already encoded: the engine asks for a prompt in a language
/// and a G.711 law and gets frames shared by every call.
protocol PromptLibrary: Sendable {
    func frames(name: String, language: String, payloadType: UInt8) -> PlayoutFrames?
}
