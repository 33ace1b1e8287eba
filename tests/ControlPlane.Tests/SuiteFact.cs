using Xunit.Abstractions;
using Xunit.Sdk;

namespace Authio.ControlPlane.Tests;

/// <summary>
/// A fact that the PostgreSQL suite skips, with a visible reason, when no test server is configured
/// (unless <c>CI=true</c>, where the PostgreSQL fixture fails instead).
/// </summary>
[XunitTestCaseDiscoverer("Authio.ControlPlane.Tests.SuiteFactDiscoverer", "Authio.ControlPlane.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class SuiteFactAttribute : FactAttribute;

public sealed class SuiteFactDiscoverer(IMessageSink sink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        [new SuiteTestCase(sink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

public sealed class SuiteTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SuiteTestCase() { }

    public SuiteTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method)
        : base(sink, display, options, method) { }

    protected override string? GetSkipReason(IAttributeInfo factAttribute) =>
        TestMethod.TestClass.Class.Name.Contains("Postgres", StringComparison.Ordinal) ? PostgresEnvironment.SkipReason : base.GetSkipReason(factAttribute);
}

public static class PostgresEnvironment
{
    public const string Variable = "AUTHIO_TEST_POSTGRES";

    public static string? ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v : null;

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when the PostgreSQL tests should run (or must fail, on CI).</summary>
    public static string? SkipReason => ConnectionString is null && !IsCi
        ? $"{Variable} is not set: run `source scripts/services/pg.sh && authio_pg_start` first. PostgreSQL tests skipped."
        : null;
}
