// trunks.yaml: what a valid file gives, and every problem located.

import ConfigFiles
import Outbound
import SIPAuth
import Testing

@Suite struct TrunksFileTests {
    @Test func aValidFile() throws {
        let file = try TrunksFile.load("""
            default: carrier
            trunks:
              - name: carrier
                uri: "sip:127.0.0.1:5070"
                username: hotline
                realm: carrier.example
                ha1_md5: 0123456789abcdef0123456789abcdef
                caller_id: "12345"
                p_asserted_identity: "sip:12345@gov.example"
                calls_per_second: 20
                max_concurrent: 60
                ring_timeout: 30s
              - name: front
                uri: "sip:kamailio.local;transport=udp"
                caller_id: "+861012345"
            """)
        #expect(file.defaultTrunk == "carrier")
        let carrier = try #require(file.trunk(named: nil))
        #expect(carrier.host == "127.0.0.1" && carrier.port == 5070 && carrier.callsPerSecond == 20 && carrier.maxConcurrent == 60)
        #expect(carrier.credentials?.ha1[.md5] == "0123456789abcdef0123456789abcdef" && carrier.ringTimeout == .seconds(30))
        #expect(file.trunk(named: "front")?.port == 5060)
    }

    @Test func problemsAreLocated() {
        #expect {
            try TrunksFile.load("""
                default: nowhere
                trunks:
                  - name: carrier
                    uri: "carrier.example"
                    caller_id: "call us"
                    password: secret
                """)
        } throws: { error in
            let text = "\(error)"
            return text.contains("trunks.yaml:4:10: error: 'carrier.example' is not a sip:host[:port] URI")
                && text.contains("trunks.yaml:5:16: error: caller_id 'call us' is not a number")
                && text.contains("trunks.yaml:6:5: error: unknown key 'password'")
                && text.contains("trunks.yaml:1:10: error: no trunk 'nowhere'")
        }
    }

    @Test func dialplanFileIsValid() throws {
        let file = try TrunksFile.load(contentsOf: "Dialplans/trunks.yaml")
        #expect(!file.trunks.isEmpty)
    }
}

@Suite struct VehicleOwnersTests {
    @Test func aValidTableAndItsLookups() throws {
        let owners = try VehicleOwners.parse("# export\nplate,owner_number\n12345,13900000001\n\n54321, +8613900000002\n")
        #expect(owners.owner(ofPlate: "12345") == "13900000001" && owners.owner(ofPlate: "54321") == "+8613900000002")
        #expect(owners.owner(ofPlate: "99999") == nil && owners.count == 2)
    }

    @Test func everyBadLineIsReportedAndNothingIsTaken() {
        #expect {
            try VehicleOwners.parse("plate,owner_number\n12a45,139\n12345,call me\n12345,13900000001\n12345,13900000002\n1,2,3\n", file: "o.csv")
        } throws: { error in
            let text = "\(error)"
            return text.contains("o.csv:2: error: plate '12a45' is not 4 to 8 digits")
                && text.contains("o.csv:3: error: owner_number is not a number we can call")
                && text.contains("o.csv:5: error: plate '12345' is already listed at line 4")
                && text.contains("o.csv:6: error: expected 2 fields")
        }
        #expect(throws: VehicleOwnersError.self) { try VehicleOwners.parse("plates,numbers\n") }
        #expect(throws: Never.self) { try VehicleOwners.load(contentsOf: "Dialplans/vehicle-owners.example.csv") }
    }
}
