// AdminWeb: the admin listener on Hummingbird 2.
// This file: a response that says `Connection: close` really ends the connection: the output
// is shut once it is written, and whatever the client still sends of a refused request is
// read and dropped up to AdminWebServer.maxDrain, then the connection is cut. Hummingbird
// otherwise reads a refused body to its end, however long.
import HTTPTypes
import NIOCore
import NIOHTTPTypes

final class ConnectionCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var closingAfterResponse = false
    /// Bytes read since the output was shut, or nil while the connection is open both ways.
    private var drained: Int?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if var count = drained {
            if case .body(let chunk) = unwrapInboundIn(data) { count += chunk.readableBytes }
            drained = count
            if count > AdminWebServer.maxDrain {
                context.close(promise: nil)
                return
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            closingAfterResponse = head.headerFields[.connection]?.lowercased() == "close"
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closingAfterResponse else {
                context.write(data, promise: promise)
                return
            }
            closingAfterResponse = false
            drained = 0
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(mode: .output, promise: nil) }
            context.writeAndFlush(data, promise: written)
        }
    }
}
