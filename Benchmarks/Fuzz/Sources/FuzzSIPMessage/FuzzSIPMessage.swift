// Fuzz target: the SIP message parser (SIPCore), as the UDP path and a stream peer use it.
//
// Each input is one datagram. Besides "never traps, never hangs", it checks what must hold
// for every message the parser accepts: its serialization parses again, and serializing is
// a fixed point from there on (what we send is what we would read back), and a request's
// `serializedCount` is the size of its serialization. Then the same bytes
// go through the stream parser in slices, and the pre-parse helpers the endpoint runs on
// every datagram (Call-ID peek, shard, method test) must stay inside the buffer.
import Foundation
import SIPCore

@inline(never)
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    FileHandle.standardError.write(Data("invariant failed: \(message())\n".utf8))
    abort()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)

    // The datagram parser.
    do {
        let message = try SIPMessageParser.parse(datagram: bytes)
        let wire = message.serialized
        let again: SIPMessage
        do { again = try SIPMessageParser.parse(datagram: wire) } catch {
            require(false, "a parsed message's serialization does not parse: \(error)\n\(String(decoding: wire, as: UTF8.self))")
            return 0
        }
        require(again.serialized == wire, "serialize(parse(serialize(m))) != serialize(m)")
        require((try? SIPMessageParser.parse(datagram: again.serialized)) == again, "the re-parsed message is not a fixed point")
        // What the call path reads from every accepted message.
        if case .request(let request) = message {
            _ = request.callID; _ = request.cseq; _ = request.from?.tag; _ = request.to?.tag
            _ = request.vias; _ = request.contacts; _ = request.maxForwards; _ = request.contentType
            _ = request.uri.decodedUser
            if request.method == .info { _ = SIPDTMFInfo.parse(contentType: request.contentType, body: request.body) }
            var annotated = request
            annotated.annotateTopVia(sourceIP: "192.0.2.7", sourcePort: 5062)
            // The size the endpoint checks against the MTU before sending (RFC 3261 §18.1.1).
            require(request.serializedCount == request.serialized.count, "serializedCount \(request.serializedCount) != \(request.serialized.count)")
            require(annotated.serializedCount == annotated.serialized.count, "serializedCount of the annotated request is off")
            let response = SIPResponse(to: request, status: .ok, toTag: "fz")
            _ = response.serialized
        }
    } catch {
        // A refused request may be answered: building the answer must not trap either.
        _ = error.response()?.serialized
    }

    // The pre-parse helpers the UDP path runs on every datagram.
    let raw = UnsafeRawBufferPointer(bytes)
    if let range = SIPMessageParser.peekCallID(in: raw) {
        require(range.lowerBound >= 0 && range.upperBound <= size && !range.isEmpty, "peekCallID out of bounds: \(range) of \(size)")
    }
    let shard = SIPMessageParser.shard(of: raw, among: 4)
    require((0..<4).contains(shard), "shard \(shard) out of 0..<4")
    _ = SIPMessageParser.startsWithMethod("REGISTER", in: raw)

    // The stream parser, fed in slices whose sizes come from the first byte.
    var stream = SIPMessageParser(maximumMessageSize: 4096)
    let step = 1 + Int(size > 0 ? bytes[0] % 64 : 0)
    var offset = 0, messages = 0
    feeding: while offset < size {
        let end = min(size, offset + step)
        stream.append(bytes[offset..<end])
        offset = end
        while true {
            do {
                guard try stream.next() != nil else { break }
                messages += 1
                require(messages <= size, "more messages than bytes")
            } catch {
                break feeding // the stream cannot be re-synchronised: the connection closes
            }
        }
    }
    return 0
}
