import Foundation
import Testing
@testable import Tickets

@Suite struct UnitDirectoryTests {
    /// The repository root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theShippedUnitsFileLoads() throws {
        let units = try UnitDirectory.load(contentsOf: Self.root.appendingPathComponent("Dialplans/tickets/units.yaml").path)
        #expect(units.unit("ningxia")?.kind == .region)
        #expect(units.unit("yinchuan.xingqing")?.parent == "yinchuan")
        #expect(units.subtree(of: "yinchuan.xingqing") == ["yinchuan.xingqing", "yinchuan.xingqing.fenghuang",
                                                           "yinchuan.xingqing.zhongshan", "yinchuan.xingqing.daxin"])
        #expect(units.ancestors(of: "yinchuan.xingqing.daxin") == ["yinchuan.xingqing", "yinchuan", "ningxia"])
        #expect(units.unit("yinchuan.xingqing.daxin", isWithin: "yinchuan"))
        #expect(!units.unit("shizuishan.dawukou", isWithin: "yinchuan"))
        #expect(units.units.count > 30)
        // Parents before children.
        var seen: Set<UnitID> = []
        for unit in units.units {
            if let parent = unit.parent { #expect(seen.contains(parent)) }
            seen.insert(unit.id)
        }
    }

    @Test func reportsEveryIssueWithItsLocation() {
        let yaml = """
            units:
              - id: north
                name: North Region
                kind: regoin
              - id: Bad Id
                name: x
                kind: city
              - id: town
                name: A town
                kind: township
              - id: dept
                kind: department
                colour: blue
            """
        #expect {
            try UnitDirectory.parse(yaml: yaml, file: "units.yaml")
        } throws: { error in
            let issues = (error as? TicketsConfigError)?.issues.map(\.description) ?? []
            return issues == [
                "units.yaml:4:11: error: unknown unit kind 'regoin' [units.0.kind] (did you mean 'region'?)",
                "units.yaml:5:9: error: unit id 'Bad Id' must match [a-z0-9][a-z0-9_.-]* [units.1.id]",
                "units.yaml:13:5: error: unknown key 'colour' [units.3.colour]",
                "units.yaml:11:5: error: missing key 'name' [units.3]",
            ]
        }
    }

    @Test func checksTheHierarchy() {
        let yaml = """
            units:
              - id: city
                name: A city
                kind: city
                units:
                  - {id: town, name: A town, kind: township}
              - {id: city, name: Again, kind: department}
            """
        #expect {
            try UnitDirectory.parse(yaml: yaml, file: "u.yaml")
        } throws: { error in
            let issues = (error as? TicketsConfigError)?.issues.map(\.description) ?? []
            return issues == [
                "u.yaml:7:5: error: unit 'city' is defined twice (first at line 2) [units.1]",
            ]
        }
        let levels = """
            units:
              - id: city
                name: A city
                kind: city
                units:
                  - {id: town, name: A town, kind: township}
            """
        #expect {
            try UnitDirectory.parse(yaml: levels, file: "u.yaml")
        } throws: { error in
            let issues = (error as? TicketsConfigError)?.issues.map(\.description) ?? []
            return issues == [
                "u.yaml:2:5: error: unit 'city' is a city and must sit under a region",
                "u.yaml:6:9: error: unit 'town' is a township and must sit under a county, not a city",
            ]
        }
    }

    @Test func refusesCyclesBuiltInCode() {
        #expect(throws: TicketsConfigError.self) {
            try UnitDirectory(units: [Unit(id: "a", name: "A", kind: .department, parent: "b"),
                                      Unit(id: "b", name: "B", kind: .department, parent: "a")])
        }
    }

    @Test func yamlSyntaxErrorsAreLocated() {
        #expect {
            try UnitDirectory.parse(yaml: "units:\n  - id: [unclosed\n", file: "u.yaml")
        } throws: { error in
            guard let issue = (error as? TicketsConfigError)?.issues.first else { return false }
            return issue.file == "u.yaml" && issue.line >= 2 && issue.message.hasPrefix("YAML syntax")
        }
    }
}
