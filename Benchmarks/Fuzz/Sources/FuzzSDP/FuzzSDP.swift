// Fuzz target: the SDP parser, serializer and offer/answer negotiator.
//
// Input: an SDP body (decoded as UTF-8 with replacement, as the SIP layer's `bodyText` does).
// Invariants, besides never trapping:
// - a description we parsed serializes to text that parses back to the same description
//   (we send back what we would read);
// - the answer we build to any offer, under each media_encryption policy (none, optional,
//   required: SDES a=crypto lines), is itself SDP that parses back to the same answer
//   (SDPNegotiatorTests asks the same of its fixtures), and keeps the policy: no SRTP under
//   none, never plain RTP under required;
// - the input taken as the answer to our own offer negotiates or fails with a typed error.
import Foundation
import SDP

@inline(never)
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    FileHandle.standardError.write(Data("invariant failed: \(message())\n".utf8))
    abort()
}

let negotiators = [SDPNegotiator(), SDPNegotiator(capabilities: .agentLeg)]
/// Our SRTP master key and salt (SDES, 30 bytes).
let ourKey = [UInt8](repeating: 0xA5, count: SRTPCryptoSuite.keyMaterialLength)

/// The fields two descriptions differ in, for the report of a failed round trip.
func differences(_ a: SessionDescription, _ b: SessionDescription) -> String {
    var left = "", right = ""
    dump(a, to: &left); dump(b, to: &right)
    let l = left.split(separator: "\n"), r = right.split(separator: "\n")
    return zip(l, r).filter { $0 != $1 }.prefix(8).map { "built:  \($0)\nparsed: \($1)" }.joined(separator: "\n")
        + (l.count != r.count ? "\n(\(l.count) dump lines built, \(r.count) parsed)" : "")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let description = try? SessionDescription.parse(text) else { return 0 }

    let wire = description.serialize()
    let again: SessionDescription
    do { again = try SessionDescription.parse(wire) } catch {
        require(false, "a parsed description's serialization does not parse: \(error)\n\(wire)")
        return 0
    }
    require(again.serialize() == wire, "serialize(parse(serialize(d))) != serialize(d)\n\(wire)\n---\n\(again.serialize())")
    require(again == description, "parse(serialize(d)) != d\n\(wire)\n" + differences(description, again))

    for negotiator in negotiators {
        for encryption in MediaEncryption.allCases {
            let key = encryption == .none ? [] : ourKey
            // The input as an offer we answer (an incoming INVITE, a re-INVITE).
            if let (answer, media) = try? negotiator.answer(to: description, localAddress: "192.0.2.1", localPort: 20000,
                                                             sessionID: 1, sessionVersion: 1, encryption: encryption, localKeyMaterial: key) {
                let answerText = answer.serialize()
                do {
                    let parsed = try SessionDescription.parse(answerText)
                    require(parsed == answer, "our answer does not parse back to itself:\n\(answerText)\n" + differences(answer, parsed))
                } catch {
                    require(false, "our answer is not valid SDP (\(error)):\n\(answerText)")
                }
                require(media.mediaIndex < description.media.count, "negotiated media index \(media.mediaIndex) out of range")
                // The policy holds: SRTP only when allowed, always when required.
                require(encryption != .none || media.srtp == nil, "SRTP negotiated under media_encryption none")
                require(encryption != .required || media.srtp != nil, "plain RTP negotiated under media_encryption required")
                _ = media.samplesPerPacket
                _ = media.isRemoteHold
            }
            // The input as the answer to our offer (an agent leg, the load generator).
            let ours = negotiator.offer(localAddress: "192.0.2.1", localPort: 20000, sessionID: 1, sessionVersion: 1,
                                        encryption: encryption, localKeyMaterial: key)
            if let media = try? negotiator.negotiateAnswer(answer: description, toOffer: ours) {
                _ = media.samplesPerPacket
            }
        }
    }
    return 0
}
