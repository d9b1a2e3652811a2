// AdminWeb: the admin listener on Hummingbird 2.
// This file: what every response gets: the 404 of an unknown path in our words, and the
// headers that keep the console's pages from running anything but our own scripts.
import HTTPTypes
import Hummingbird

struct AdminResponseMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    /// No inline script or style, nothing from elsewhere (the console runs on closed networks
    /// and shows caller-controlled text), no framing.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            response = AdminWebServer.response(AdminResponse(status: .notFound, body: "no such resource: \(request.uri.path)\n"))
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicyField] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicyField = Self("Referrer-Policy")!
}
