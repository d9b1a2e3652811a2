import Foundation
import Testing

@testable import Dialplan

@Suite("Graphviz DOT")
struct GraphTests {
    static let directory = "\(Repository.root)/Tests/DialplanTests/Fixtures/graph"

    /// `Fixtures/graph/sample.yaml` (one of each kind of node and edge, and an included file)
    /// must draw exactly `sample.dot`. After an intended change, regenerate it with
    /// `hotline dialplan graph sample.yaml > sample.dot` in that directory and review the diff.
    @Test("the sample dialplan draws exactly the golden file")
    func golden() throws {
        let plan = try Dialplan.load(path: "\(Self.directory)/sample.yaml")
        let golden = try String(contentsOfFile: "\(Self.directory)/sample.dot", encoding: .utf8)
        let dot = DialplanGraph.dot(plan)
        let expected = golden.components(separatedBy: "\n"), actual = dot.components(separatedBy: "\n")
        let firstDifference = zip(expected, actual).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(dot == golden, """
            first difference at line \((firstDifference?.offset ?? min(expected.count, actual.count)) + 1):
              golden: \(firstDifference?.element.0 ?? "<end>")
              actual: \(firstDifference?.element.1 ?? "<end>")
            """)
    }

    @Test("12345: menus show their keys as labelled edges, the enterprise file is a cluster")
    func hotline() throws {
        let dot = DialplanGraph.dot(try loadShipped("12345.yaml"))
        #expect(dot.hasPrefix("digraph \"12345\" {"))
        #expect(dot.contains("\"main_menu\" -> \"enterprise\" [label=\"3\"];"))
        #expect(dot.contains("\"language_menu\" -> \"english\" [label=\"2\"];"))
        #expect(dot.contains("\"entry 12345\" -> \"welcome\";"))
        #expect(dot.contains("subgraph \"cluster_12345/enterprise.yaml\" {"))
        #expect(dot.contains("\"operator_hours\" -> \"operator\" [label=\"operators open\"];"))
        #expect(dot.contains("\"move_car_read_back\" -> \"read_back\" [label=\"call\", style=dashed];"))
        #expect(dot.hasSuffix("}\n"))
    }

    @Test("DOT strings escape quotes, backslashes and newlines")
    func quoting() {
        #expect(DialplanGraph.quote("say \"${x}\" \\ now\nthen") == "\"say \\\"${x}\\\" \\\\ now\\nthen\"")
    }
}
