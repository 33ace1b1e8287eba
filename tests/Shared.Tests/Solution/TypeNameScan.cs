using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Authio.Shared.Tests.Solution;

/// <summary>One declaration of a type in a source file: a partial type has one per file.</summary>
internal sealed record TypeDeclaration(string Name, string FullName, bool Nested, bool Private, string File, int Line)
{
    public string Where => $"{FullName} ({File}:{Line})";
}

/// <summary>
/// Finds type declarations (class, record, struct, interface, enum, delegate; top-level and nested) with the C#
/// parser, so words in comments and strings never count and partial types are recognised by their full name.
/// </summary>
internal static class TypeNameScan
{
    private static readonly CSharpParseOptions Latest = new(LanguageVersion.Preview);

    public static IEnumerable<TypeDeclaration> Declarations(string file, string source)
    {
        var root = CSharpSyntaxTree.ParseText(source, Latest, file).GetRoot();
        foreach (var node in root.DescendantNodes())
        {
            var (name, arity, modifiers) = node switch
            {
                BaseTypeDeclarationSyntax t => (t.Identifier.ValueText, (t as TypeDeclarationSyntax)?.Arity ?? 0, t.Modifiers),
                DelegateDeclarationSyntax d => (d.Identifier.ValueText, d.Arity, d.Modifiers),
                _ => (null, 0, default(SyntaxTokenList)),
            };
            if (name is null)
            {
                continue;
            }
            var containers = node.Ancestors().OfType<BaseTypeDeclarationSyntax>().Select(t => t.Identifier.ValueText).Reverse().ToList();
            var namespaces = node.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().Select(n => n.Name.ToString()).Reverse();
            var nested = containers.Count > 0;
            // A nested type without an accessibility modifier is private; a file-local type is invisible outside its file.
            var isPrivate = modifiers.Any(SyntaxKind.FileKeyword)
                || (nested && ((modifiers.Any(SyntaxKind.PrivateKeyword) && !modifiers.Any(SyntaxKind.ProtectedKeyword))
                    || !modifiers.Any(m => m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.InternalKeyword) || m.IsKind(SyntaxKind.ProtectedKeyword))));
            var fullName = string.Join('.', namespaces.Concat(containers).Append(arity > 0 ? $"{name}`{arity}" : name));
            var line = node.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
            yield return new TypeDeclaration(name, fullName, nested, isPrivate, file, line);
        }
    }

    /// <summary>
    /// The names given to more than one type, each with where its types are declared. Top-level types are read by their
    /// simple name wherever they are used, so no two may share one (whatever their namespaces). A nested type is read
    /// as <c>Container.Name</c> outside its container, so nested types of different containers may share a name (each
    /// type's <c>Log</c> partial, a cache's <c>Entry</c>); but a nested type visible outside its container must not
    /// take a top-level type's name. Private and file-local types are invisible elsewhere and never collide.
    /// </summary>
    public static IReadOnlyList<string> Duplicates(IEnumerable<TypeDeclaration> declarations)
    {
        // Partial types: one type, several declarations; keep the first declaration of each full name.
        var types = declarations.GroupBy(d => d.FullName, StringComparer.Ordinal).Select(g => g.First()).ToList();
        var topLevel = types.Where(t => !t.Nested && !t.Private).ToLookup(t => t.Name, StringComparer.Ordinal);
        var report = new List<string>();
        foreach (var group in topLevel.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var clashing = group.Concat(types.Where(t => t.Nested && !t.Private && t.Name == group.Key)).ToList();
            if (clashing.Count > 1)
            {
                report.Add($"{group.Key}: {string.Join(", ", clashing.Select(t => t.Where))}");
            }
        }
        return report;
    }
}
