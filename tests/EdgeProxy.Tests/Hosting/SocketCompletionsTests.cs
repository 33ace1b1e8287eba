using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.Hosting;

namespace Authio.EdgeProxy.Tests.Hosting;

public sealed class SocketCompletionsTests
{
    [Fact]
    public void InlineCompletionsAreOnByDefault() =>
        Assert.Equal("1", SocketCompletions.Resolve(null, new EdgeTransportOptions()));

    [Fact]
    public void TheSettingTurnsThemOff() =>
        Assert.Equal("0", SocketCompletions.Resolve(null, new EdgeTransportOptions { InlineCompletions = false }));

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("")]
    public void TheOperatorsVariableWins(string set) =>
        Assert.Null(SocketCompletions.Resolve(set, new EdgeTransportOptions()));

    [Fact]
    public void AValueThatIsNotABooleanStopsStartUpNamingTheKey()
    {
        var ex = Assert.Throws<Authio.Shared.Configuration.ConfigurationException>(() =>
            EdgeApp.Build(["--Edge:Transport:InlineCompletions=sometimes", "--urls=http://127.0.0.1:0", "--Edge:AdminUrls=http://127.0.0.1:0"]));
        Assert.Contains("Edge:Transport:InlineCompletions", ex.Message);
    }
}
