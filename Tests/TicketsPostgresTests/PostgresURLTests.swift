import Testing
import TicketsPostgres

@Suite struct PostgresURLTests {
    @Test func parsesUserHostPortAndDatabase() throws {
        let url = try PostgresURL(parsing: "postgres://hotline@127.0.0.1:55432/hotline")
        #expect(url == PostgresURL(user: "hotline", host: "127.0.0.1", port: 55432, database: "hotline"))
        #expect(url.description == "postgres://hotline@127.0.0.1:55432/hotline")
    }

    @Test func acceptsPostgresqlSchemeDefaultPortPasswordAndEscapes() throws {
        let url = try PostgresURL(parsing: "postgresql://us%40er:p%3Ass@db.example/tick%20ets")
        #expect(url.user == "us@er")
        #expect(url.password == "p:ss")
        #expect(url.port == 5432)
        #expect(url.database == "tick ets")
        #expect(!url.description.contains("p:ss"), "the password never reaches logs")
        let v6 = try PostgresURL(parsing: "postgres://u@[::1]:6000/d")
        #expect(v6.host == "::1" && v6.port == 6000)
    }

    @Test(arguments: [
        ("mysql://u@h/d", PostgresURLError.Reason.scheme),
        ("/var/hotline.sqlite", .scheme),
        ("postgres://h:5432/d", .missingUser),
        ("postgres://@h/d", .missingUser),
        ("postgres://u@h:port/d", .port),
        ("postgres://u@h:70000/d", .port),
        ("postgres://u@h:5432", .missingDatabase),
        ("postgres://u@h/", .missingDatabase),
        ("postgres://u@:5432/d", .host),
        ("postgres://u@h/d?sslmode=require", .parameters),
    ])
    func refusesWhatIsWrongAndSaysWhat(_ input: String, _ reason: PostgresURLError.Reason) {
        #expect(throws: PostgresURLError(input: input, reason: reason)) { try PostgresURL(parsing: input) }
    }

    @Test func errorsHideThePassword() {
        let error = PostgresURLError(input: "postgres://u:secret@h:x/d", reason: .port)
        #expect(!error.description.contains("secret"))
    }

    @Test func dbOptionPicksTheBackendByScheme() {
        #expect(PostgresURL.looksLikePostgres("postgres://u@h/d"))
        #expect(PostgresURL.looksLikePostgres("postgresql://u@h/d"))
        #expect(!PostgresURL.looksLikePostgres("var/hotline.sqlite"))
    }
}
