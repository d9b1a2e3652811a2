// Fuzz target: the YAML dialplan loader and validator (`hotline dialplan check`, the server's
// load and reload, the console's editor).
//
// Input: UTF-8 text (invalid bytes replaced, as the editor's upload is). Lines of the form
// `#--- <name>` split it into files: what comes before the first is the main dialplan
// `/fuzz/main.yaml`, each section after one is the file `/fuzz/<name>`, which `include:` can
// name; every other path is unreadable. No disk is read.
//
// Invariants, besides never trapping:
// - there is a dialplan exactly when no issue is an error;
// - every issue has a location (line and column from 1) in a file that is the main file or
//   one the loader was offered;
// - a dialplan that loads can be drawn (DialplanGraph, the console's flow view).
import Dialplan
import Foundation

@inline(never)
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    FileHandle.standardError.write(Data("invariant failed: \(message())\n".utf8))
    abort()
}

let mainFile = "/fuzz/main.yaml"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)

    var files: [String: String] = [:]
    var current = mainFile
    var lines: [Substring] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("#--- ") {
            files[current] = lines.joined(separator: "\n")
            current = "/fuzz/" + line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            lines = []
        } else {
            lines.append(line)
        }
    }
    files[current] = lines.joined(separator: "\n")
    let main = files[mainFile] ?? ""

    let result = Dialplan.check(yaml: main, file: mainFile, readFile: { files[$0] })
    require((result.dialplan != nil) == result.errors.isEmpty,
            "dialplan \(result.dialplan == nil ? "missing" : "present") with \(result.errors.count) errors")
    for issue in result.issues {
        let location = issue.location
        require(location.line >= 1 && location.column >= 1, "issue without a location: \(issue)")
        require(location.file == mainFile || files[location.file] != nil, "issue located in a file never read: \(issue)")
        _ = issue.description
    }
    if let dialplan = result.dialplan {
        _ = DialplanGraph.dot(dialplan)
    }
    return 0
}
