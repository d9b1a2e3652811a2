import Testing
@testable import HotlineServer

@Suite struct PrometheusTextTests {
    @Test func declaresEachFamilyOnceAndEscapesLabels() {
        var p = PrometheusText()
        p.add("calls_total", .counter, help: "Calls.", labels: [("disposition", "a\"b\\c\nd")], value: 3)
        p.add("calls_total", .counter, help: "Calls.", labels: [("disposition", "x")], value: UInt64(4))
        p.add("ratio", .gauge, help: "A ratio.", value: 0.25)
        #expect(p.text == """
        # HELP calls_total Calls.
        # TYPE calls_total counter
        calls_total{disposition="a\\"b\\\\c\\nd"} 3
        calls_total{disposition="x"} 4
        # HELP ratio A ratio.
        # TYPE ratio gauge
        ratio 0.25

        """)
    }
}

@Suite struct ServerConfigurationTests {
    @Test func defaultsAreValidAndServeTheHotlineFromTheRepoRoot() throws {
        let config = ServerConfiguration()
        try config.validate()
        #expect(config.dialplanPath == "Dialplans/12345.yaml")
        #expect(config.databasePath == "var/hotline.sqlite")
        #expect(config.sipPort == 5060)
    }

    @Test func wildcardListenNeedsAnAdvertisedAddress() {
        var config = ServerConfiguration()
        config.sipHost = "0.0.0.0"
        #expect(throws: ServerConfiguration.ValidationError.self) { try config.validate() }
        config.advertisedHost = "192.0.2.10"
        #expect(throws: Never.self) { try config.validate() }
        #expect(config.contactHost == "192.0.2.10")
    }

    @Test func rtpRangeMustBeUsable() {
        var config = ServerConfiguration()
        config.rtpPorts = 80...90
        #expect(throws: ServerConfiguration.ValidationError.self) { try config.validate() }
    }
}

@Suite struct AdminRoutingTests {
    @Test func splitsPathAndDecodesTheQuery() {
        let (path, query) = AdminHTTPHandler.split("/api/tickets?limit=10&since=2026-11-29T00%3A00")
        #expect(path == "/api/tickets")
        #expect(query == ["limit": "10", "since": "2026-11-29T00:00"])
        #expect(AdminHTTPHandler.split("/health").0 == "/health")
    }
}
