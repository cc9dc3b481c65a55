// The Sentinel content checks that need Microsoft's Kusto language service, in one process: loading and warming the
// service takes about ten seconds, so the KQL, ASIM parser and package suites share one instance.
import './kqlSuite.js';
import './asimSuite.js';
import './artifactsSuite.js';
