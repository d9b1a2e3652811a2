// Fuzz target: SIPStreamFramer, the cutter of a TCP/TLS byte stream into SIP messages.
//
// Input: one control byte, then the stream. The control byte picks how the stream is sliced
// (a small generator's slice sizes) and how much time passes between slices. Small limits
// (2 KiB of header, 4 KiB of body, 30 s per message) so inputs reach them.
//
// Invariants, besides never trapping:
// - slicing does not matter: the stream cut into slices at one instant gives the same
//   messages, pings, pongs, buffered bytes and error as the whole stream in one read;
// - what comes out is what went in: the messages (with 4 bytes per ping, 2 per pong) are
//   the stream's first bytes, in order, and the rest is what the framer says it holds;
// - time can only add the slow-loris error: if the timed run ends without error, it gave the
//   same outputs as the untimed one;
// - an error sticks: after it, every call throws it again.
import Foundation
import SIPTransport

@inline(never)
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    FileHandle.standardError.write(Data("invariant failed: \(message())\n".utf8))
    abort()
}

let limits = SIPStreamFramer.Limits(maxHeaderBytes: 2048, maxBodyBytes: 4096, maxMessageMilliseconds: 30_000)

struct Run {
    var outputs: [SIPStreamFramer.Output] = []
    var error: SIPStreamFramer.FramingError?
    var bufferedBytes = 0
    var insideMessage = false
}

/// Feeds `stream` in the given slices, the i-th at `times[i]`, calling `check` after each
/// when `checking`.
func run(_ stream: ArraySlice<UInt8>, slices: [Int], times: [Int64], checking: Bool) -> Run {
    var framer = SIPStreamFramer(limits: limits)
    var result = Run()
    var offset = stream.startIndex
    for (i, length) in slices.enumerated() {
        let end = min(stream.endIndex, offset + length)
        do {
            result.outputs += try framer.receive(stream[offset..<end], now: times[i])
            if checking { try framer.check(now: times[i]) }
        } catch {
            result.error = error
            // Sticky: the next call throws the same error.
            do { _ = try framer.receive([65], now: times[i]) ; require(false, "receive after \(error) did not throw") } catch let again {
                require(again == error, "error changed from \(error) to \(again)")
            }
            do { try framer.check(now: times[i]); require(false, "check after \(error) did not throw") } catch let again {
                require(again == error, "check error changed from \(error) to \(again)")
            }
            return result
        }
        offset = end
    }
    result.bufferedBytes = framer.bufferedBytes
    result.insideMessage = framer.isInsideMessage
    return result
}

func bytes(of outputs: [SIPStreamFramer.Output]) -> [UInt8] {
    var all: [UInt8] = []
    for output in outputs {
        switch output {
        case .message(let message): all += message
        case .ping: all += SIPStreamFramer.ping
        case .pong: all += SIPStreamFramer.pong
        }
    }
    return all
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let control = input[0]
    let stream = input[1...]

    // Slice sizes from a xorshift seeded by the control byte: 1...64 bytes, or the odd large one.
    var state = UInt32(control) &* 2_654_435_761 | 1
    var slices: [Int] = []
    var covered = 0
    while covered < stream.count {
        state ^= state << 13; state ^= state >> 17; state ^= state << 5
        let length = state % 8 == 0 ? Int(state % 1024) + 1 : Int(state % 64) + 1
        slices.append(length)
        covered += length
    }
    if slices.isEmpty { slices = [0] }
    let step = Int64(control >> 4) * 1_000 // 0 to 15 s between slices

    let whole = run(stream, slices: [stream.count], times: [0], checking: false)
    let sliced = run(stream, slices: slices, times: Array(repeating: 0, count: slices.count), checking: false)

    require(sliced.error == whole.error, "error \(String(describing: sliced.error)) sliced, \(String(describing: whole.error)) whole")
    if whole.error == nil {
        require(sliced.outputs == whole.outputs, "sliced outputs differ from whole")
        require(sliced.bufferedBytes == whole.bufferedBytes, "buffered \(sliced.bufferedBytes) sliced, \(whole.bufferedBytes) whole")
        require(sliced.insideMessage == whole.insideMessage, "inside-message state differs")
        let out = bytes(of: whole.outputs)
        require(out.count + whole.bufferedBytes == stream.count, "\(out.count) bytes out + \(whole.bufferedBytes) held != \(stream.count) in")
        require(out[...] == stream.prefix(out.count), "the outputs are not the stream's first bytes")
    } else {
        // Before its error the sliced run may have completed messages: they are the stream's start.
        let out = bytes(of: sliced.outputs)
        require(out[...] == stream.prefix(out.count), "outputs before the error are not the stream's first bytes")
    }

    let timed = run(stream, slices: slices, times: slices.indices.map { Int64($0) * step }, checking: true)
    if timed.error == nil {
        require(whole.error == nil && timed.outputs == whole.outputs && timed.bufferedBytes == whole.bufferedBytes,
                "the timed run succeeded but differs from the untimed one")
    } else if timed.error != .tooSlow(limit: limits.maxMessageMilliseconds) {
        require(timed.error == whole.error, "time changed the error from \(String(describing: whole.error)) to \(String(describing: timed.error))")
    }
    return 0
}
